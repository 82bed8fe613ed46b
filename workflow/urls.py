from django.urls import path

from workflow import repair_views, views

app_name = "workflow"

run = "reels/<int:pk>/runs/<int:run_id>/"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("reels/", views.reel_list, name="reels"),
    path("reels/<int:pk>/", views.reel_detail, name="reel"),
    path("reels/<int:pk>/open/", views.open_first, name="open_first"),
    path(run, views.run_detail, name="run"),
    path(run + "start/", views.start, name="start"),
    path(run + "work/", views.save_work, name="save_work"),
    path(run + "photos/", views.add_photo, name="add_photo"),
    path(run + "sign-off/", views.sign_off, name="sign_off"),
    path(run + "withdraw/", views.withdraw, name="withdraw"),
    path(run + "approve/", views.approve, name="approve"),
    path(run + "return/", views.return_run, name="return"),
    path(run + "import/", views.import_scan, name="import_scan"),
    path("reels/<int:pk>/sequences/<int:seq_id>/resume/", views.resume_import,
         name="resume_import"),
    path(run + "repair/preview/", repair_views.preview, name="repair_preview"),
    path(run + "repair/", repair_views.run_repair, name="run_repair"),
    path("reels/<int:pk>/sequences/<int:seq_id>/resume-repair/", repair_views.resume_repair,
         name="resume_repair"),
    path("reels/<int:pk>/previews/<int:job_id>/<str:name>", repair_views.preview_file,
         name="preview_file"),
    path("reels/<int:pk>/sequences/<int:seq_id>/frames/<int:frame>.jpg",
         repair_views.sequence_frame, name="sequence_frame"),
    path("reels/<int:pk>/sequences/<int:seq_id>/", views.sequence_card, name="sequence_card"),
    path("reels/<int:pk>/sequences/<int:seq_id>/progress/", views.sequence_progress,
         name="sequence_progress"),
    path("reels/<int:pk>/sequences/<int:seq_id>/<str:kind>/<str:name>", views.sequence_file,
         name="sequence_file"),
    path("queue/", views.queue, name="queue"),
    path("queue/count/", views.queue_count, name="queue_count"),
    path("jobs/<int:job_id>/", views.job_progress, name="job"),
    path("photos/<int:photo_id>/card/", views.photo_card, name="photo_card"),
    path("photos/<int:photo_id>/<str:size>/", views.photo, name="photo"),
    path("collections/", views.collection_list, name="collections"),
    path("titles/", views.title_list, name="titles"),
    # Browsers ask for /favicon.ico on pages that link none (the admin's): send the SVG.
    path("favicon.ico", views.favicon),
]
