import io
from base64 import b32encode

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = (
        "Set up an authenticator app (TOTP) for a staff account, for two-factor sign-in to the admin. Prints the "
        "otpauth:// link, the key to type in by hand and a QR code to scan. Run it in a terminal only the member "
        "of staff can see: whoever sees the key can make codes."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--device-name", default="Authenticator app", help="A name for the device.")
        parser.add_argument(
            "--replace", action="store_true", help="Remove the account's existing authenticators first (lost phone)."
        )
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="Do nothing if the account already has an authenticator (for scripts such as runlocal).",
        )
        parser.add_argument("--no-qr", action="store_true", help="Do not draw the QR code.")

    def handle(self, *args, username, device_name, replace, if_missing, no_qr, **options):
        user = get_user_model().objects.filter(**{get_user_model().USERNAME_FIELD: username}).first()
        if user is None:
            if if_missing:
                self.stderr.write(f"No account named {username!r}: enrol your admin with staff_totp_enrol <username>.")
                return
            raise CommandError(f"No account named {username!r}.")
        if not user.is_staff:
            raise CommandError(f"{username!r} is not a staff account: the admin would refuse it anyway.")
        existing = TOTPDevice.objects.filter(user=user)
        if existing.exists():
            if if_missing:
                return
            if not replace:
                raise CommandError(
                    f"{username!r} already has an authenticator. Use --replace to remove it and set up a new one."
                )
            existing.delete()
        device = TOTPDevice.objects.create(user=user, name=device_name, confirmed=True)
        key = b32encode(device.bin_key).decode()
        self.stdout.write(
            self.style.SUCCESS(f"\nAuthenticator set up for {username!r}.")
            + "\nScan the QR code below with an authenticator app (any TOTP app: 6 digits, 30 seconds), or add this"
            f"\nlink or key by hand. The admin's sign-in then asks for the app's current code.\n"
            f"\n  Link: {device.config_url}\n  Key:  {key}\n"
        )
        if not no_qr:
            self.stdout.write(qr_text(device.config_url))


def qr_text(data: str) -> str:
    import qrcode

    code = qrcode.QRCode(border=2)
    code.add_data(data)
    out = io.StringIO()
    code.print_ascii(out=out, invert=True)
    return out.getvalue()
