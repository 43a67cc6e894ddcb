"""The load run (`make load`): Leadline under gunicorn and PostgreSQL, driven by locust.

run.py drives it, locustfile.py is what each simulated user does, and report.py
holds the pure parts both share (parsing answers, percentiles, the checks that
nothing was lost). See docs/RELIABILITY.md.
"""
