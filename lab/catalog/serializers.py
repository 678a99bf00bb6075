from rest_framework import serializers

from lab.catalog.models import Fruit


class FruitSerializer(serializers.ModelSerializer):
    class Meta:
        model = Fruit
        fields = ["id", "name", "weight", "description", "image_name"]
