from django.urls import path

from . import views

urlpatterns = [
    path("session/keep-alive/", views.session_keep_alive, name="session_keep_alive"),
]
