import secrets

from django.db import migrations, models

import shops.models


def give_each_shop_its_own_secret(apps, schema_editor):
    # AddField fills existing rows with one default value; a signing secret must differ per shop.
    Shop = apps.get_model("shops", "Shop")
    for shop in Shop.objects.all():
        shop.widget_secret = secrets.token_hex(32)
        shop.save(update_fields=["widget_secret"])


class Migration(migrations.Migration):
    dependencies = [
        ("shops", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="shop",
            name="widget_secret",
            field=models.CharField(
                default=shops.models.new_widget_secret, max_length=64, verbose_name="widget signing secret"
            ),
        ),
        migrations.RunPython(give_each_shop_its_own_secret, migrations.RunPython.noop),
    ]
