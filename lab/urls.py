"""URL patterns of the course's servers: prefix regexes without `$`, as the course's urls.py has.

So `/fruits/anything/` answers as `/fruits/` does, and `/fruits` (no slash) matches
nothing: with DEBUG and APPEND_SLASH, Django's CommonMiddleware answers a POST
there with a 500 RuntimeError page. `/media/` is what Apache serves (lab.media).
"""

from django.contrib.staticfiles.urls import staticfiles_urlpatterns
from django.urls import path, re_path

from lab import faults, media
from lab.catalog import views
from lab.feedback import views as feedback_views

urlpatterns = [
    path("", views.catalog_page, name="catalog"),
    re_path(r"^fruits/", views.FruitList.as_view(), name="fruits"),
    re_path(r"^upload/", views.Upload.as_view(), name="upload"),
    re_path(r"^feedback/", feedback_views.FeedbackList.as_view(), name="feedback"),
    path("reviews/", feedback_views.reviews_page, name="reviews"),
    re_path(r"^media/(?P<path>.*)$", media.media),
    path("_lab/faults/", faults.faults_view, name="lab-faults"),
    path("_lab/requests/", faults.requests_view, name="lab-requests"),
    # The browsable API's CSS and JavaScript (Django serves them itself with DEBUG on).
    *staticfiles_urlpatterns(),
]
