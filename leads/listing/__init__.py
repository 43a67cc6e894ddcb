"""Paging a lead list fast at a million leads: one function, lead_page.

A page is the next `per_page` rows after the last row shown, in the sort order,
found by one range scan of the index that matches the sort (keyset or "seek"
pagination; see the Meta indexes of Lead and docs/PERFORMANCE.md). Its cost
does not grow with the table or with how deep the page is, and there is no
COUNT(*) of the whole list. Inside: the sorts and their indexes (sorts), the
page token (cursor), the probes that find a filter leaving only a few leads and
the row-value range bound (pages), the owner sort by name (owner_sort), the
full-text search (search); SQLite's index hints come from crm.internals.
"""

from .pages import LeadPage, lead_page

__all__ = ["LeadPage", "lead_page"]
