from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from chat.views import front_page
from config.backoffice import BackOfficeLoginForm

admin.site.login_form = BackOfficeLoginForm
admin.site.site_header = _("Shopbee 店小蜂 客服后台")
admin.site.site_title = _("Shopbee")
admin.site.index_title = _("Shops, knowledge, chat, marketing and analytics")

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("api.urls")),
    path("", include("chat.urls")),
    path("", front_page, name="front-page"),
]
