"""Pagination shared by the account, contact and opportunity lists."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.utils.functional import cached_property


class CappedPaginator(Paginator):
    """A Paginator that counts at most `cap` rows.

    Counting every row of a large filtered list costs a scan of all of them on
    each page view; past `cap` the exact number does not help anyone, so the
    count stops there (shown as "10,000+") and pages beyond it are reached by
    narrowing the filters. `cap` should be a multiple of the page size.
    """

    def __init__(self, object_list, per_page, *, cap: int = 10_000, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap

    @cached_property
    def _capped_count(self) -> int:
        # COUNT(*) over a LIMITed subquery: the database stops at cap + 1 rows.
        return self.object_list[: self.cap + 1].count()

    @cached_property
    def count(self) -> int:
        return min(self._capped_count, self.cap)

    @property
    def is_capped(self) -> bool:
        """Whether there are more rows than `count` says."""
        return self._capped_count > self.cap
