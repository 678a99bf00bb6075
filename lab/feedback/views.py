"""The feedback endpoint and the page listing the reviews."""

from django.shortcuts import render
from rest_framework import generics

from lab.catalog.views import NO_HEAD
from lab.feedback.models import Feedback
from lab.feedback.serializers import FeedbackSerializer


class FeedbackList(generics.ListCreateAPIView):
    """GET lists every review, oldest first; POST creates one (201)."""

    queryset = Feedback.objects.all()
    serializer_class = FeedbackSerializer
    http_method_names = NO_HEAD


def reviews_page(request):
    return render(request, "feedback/reviews.html", {"reviews": Feedback.objects.all()})
