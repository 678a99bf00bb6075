from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "lab.feedback"
    label = "feedback"
