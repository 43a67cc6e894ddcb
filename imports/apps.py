from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "imports"
    verbose_name = "Lead imports"

    def prune_files(self, *, dry_run: bool) -> list[str]:
        """manage.py prune_attachments' step for imports: abandon the jobs nobody
        finished in time and delete the files jobs no longer need."""
        if dry_run:
            return ["Imports: nothing abandoned in a dry run."]
        # Imported here: an AppConfig is loaded before the models are ready.
        from .services import prune_imports

        abandoned, deleted = prune_imports()
        return [
            f"Abandoned {abandoned} unfinished import(s) and deleted their files; "
            f"deleted the files of {deleted} ended import(s)."
        ]
