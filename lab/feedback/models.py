from django.db import models


class Feedback(models.Model):
    """One customer review: the course's lab 2 model, field for field."""

    title = models.CharField(max_length=100, blank=True)
    name = models.CharField(max_length=100, blank=True)
    date = models.DateField()
    feedback = models.TextField(max_length=1000)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created",)

    def __str__(self) -> str:
        return self.title
