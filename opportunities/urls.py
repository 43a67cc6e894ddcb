from django.urls import path

from . import views

app_name = "opportunities"

urlpatterns = [
    path("", views.opportunity_list, name="list"),
    path("board/", views.opportunity_board, name="board"),
    path("new/", views.opportunity_create, name="create"),
    path("<int:pk>/", views.opportunity_detail, name="detail"),
    path("<int:pk>/edit/", views.opportunity_edit, name="edit"),
    path("<int:pk>/next-stage/", views.next_stage, name="next_stage"),
    path("<int:pk>/previous-stage/", views.previous_stage, name="previous_stage"),
    path("<int:pk>/close/", views.close, name="close"),
    path("<int:pk>/reopen/", views.reopen, name="reopen"),
    path("<int:pk>/delete/", views.opportunity_delete, name="delete"),
    path("<int:pk>/steps/", views.opportunity_steps, name="steps"),
    path("<int:pk>/steps/edit/", views.opportunity_steps, {"edit": True}, name="edit_steps"),
    path("<int:pk>/switch-process/", views.opportunity_switch_process, name="switch_process"),
    path("<int:pk>/move/", views.move, name="move"),
]
