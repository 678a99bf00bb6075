"""The catalog's endpoints and its HTML page, answering as the course's server does."""

from django.shortcuts import render
from rest_framework import generics, status
from rest_framework.exceptions import ParseError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from lab.catalog.models import Fruit, Image
from lab.catalog.serializers import FruitSerializer

# The course's server answers HEAD /fruits/ with 405 (Django would otherwise answer it as a GET).
NO_HEAD = [method for method in APIView.http_method_names if method != "head"]


class FruitList(generics.ListCreateAPIView):
    """GET lists every fruit, oldest first; POST creates one (201)."""

    queryset = Fruit.objects.all()
    serializer_class = FruitSerializer
    http_method_names = NO_HEAD


class Upload(APIView):
    """POST a multipart form with the field ``file``: stored under media/images/.

    The answer is ``201`` with an empty body: the stored name (which Django may
    have changed) is not told to the client.
    """

    parser_classes = [MultiPartParser]
    http_method_names = NO_HEAD

    def post(self, request, format=None):
        if "file" not in request.data:
            raise ParseError("Empty content")
        upload = request.data["file"]
        image = Image()
        # FieldFile.save: get_valid_filename, upload_to, get_available_name(max_length=100).
        image.file.save(upload.name, upload, save=True)
        return Response(status=status.HTTP_201_CREATED)


def catalog_page(request):
    return render(request, "catalog/index.html", {"fruits": Fruit.objects.all()})
