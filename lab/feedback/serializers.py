from rest_framework import serializers

from lab.feedback.models import Feedback


class FeedbackSerializer(serializers.ModelSerializer):
    class Meta:
        model = Feedback
        fields = ["id", "title", "name", "date", "feedback"]
