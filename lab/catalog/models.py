from django.db import models


class Fruit(models.Model):
    """One fruit of the catalog: the course's model, field for field."""

    name = models.CharField(max_length=100, blank=True)
    weight = models.IntegerField()
    description = models.TextField(max_length=5000)
    image_name = models.CharField(max_length=100, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created",)

    def __str__(self) -> str:
        return self.name


class Image(models.Model):
    """An uploaded picture: Django's FileField stores it, cleaning its name as Django does."""

    file = models.FileField(upload_to="images/")  # max_length=100, of "images/NAME"
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created",)
