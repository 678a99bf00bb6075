"""URL patterns of the course's lab: trailing slashes, and media served by Django."""

from django.conf import settings
from django.urls import path, re_path
from django.views.static import serve

from lab import faults
from lab.catalog import views

urlpatterns = [
    path("", views.catalog_page, name="catalog"),
    path("fruits/", views.FruitList.as_view(), name="fruits"),
    path("upload/", views.Upload.as_view(), name="upload"),
    # Served by Django itself, with or without DEBUG, as the lab machine does.
    re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
    path("_lab/faults/", faults.faults_view, name="lab-faults"),
    path("_lab/requests/", faults.requests_view, name="lab-requests"),
]
