from django.urls import path

from . import inbox

app_name = "notifications"

urlpatterns = [
    path("", inbox.notification_list, name="list"),
    path("bell/", inbox.bell, name="bell"),
    path("read/", inbox.mark_all_read, name="mark_all_read"),
    path("email/", inbox.email_preferences, name="email"),
    path("<int:pk>/open/", inbox.open_notification, name="open"),
]


jobs_urlpatterns = (
    [
        path("", inbox.job_list, name="list"),
        path("<int:pk>/retry/", inbox.job_retry, name="retry"),
    ],
    "jobs",
)
