"""The catalog's three endpoints and its HTML page."""

from django.core.files.storage import default_storage
from django.shortcuts import render
from rest_framework import generics, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from lab.catalog.models import Fruit
from lab.catalog.serializers import FruitSerializer


class FruitList(generics.ListCreateAPIView):
    """GET lists every fruit, oldest first; POST creates one (201)."""

    queryset = Fruit.objects.all()
    serializer_class = FruitSerializer


class Upload(APIView):
    """POST a multipart form with the field ``file``: stored under media/images/."""

    parser_classes = [MultiPartParser, FormParser]

    def post(self, request):
        upload = request.FILES.get("file")
        if upload is None:
            return Response(
                {"file": ["No file was submitted."]}, status=status.HTTP_400_BAD_REQUEST
            )
        # Django's default storage: an existing name gets a generated suffix,
        # exactly as on the course's lab server.
        stored = default_storage.save(f"images/{upload.name}", upload)
        return Response(
            {"name": stored.removeprefix("images/"), "url": default_storage.url(stored)},
            status=status.HTTP_201_CREATED,
        )


def catalog_page(request):
    return render(request, "catalog/index.html", {"fruits": Fruit.objects.all()})
