"""Real mail servers for the email channel's tests: Debian's dovecot as the IMAP server, aiosmtpd as the
SMTP server.

``imap_server`` starts dovecot in the foreground (``dovecot -F``) with a temporary configuration: a maildir
under a temporary directory, a static passdb (one password for every user), a free port on 127.0.0.1, no TLS. Tests
add mailbox users as they need them (``imap_server.add_user``) and put mail into a mailbox with a real
IMAP ``APPEND`` (``imap_server.deliver``), as a mail server delivering it would. ``make mail-deps`` installs
dovecot (apt-get install dovecot-imapd); without the binary these tests are skipped and say why.

``smtp_server`` runs aiosmtpd's controller in a thread: STARTTLS with a certificate for 127.0.0.1 made for
the run (``EMAIL_CHANNEL_CA_FILE`` trusts it, as a merchant's private CA would be), a login required after
it, and every mail it accepted kept.
"""

import email
import email.policy
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest

DOVECOT = shutil.which("dovecot") or ("/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None)
needs_dovecot = pytest.mark.skipif(
    DOVECOT is None, reason="dovecot is not installed: `make mail-deps` (apt-get install dovecot-imapd)"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, log: Path, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dovecot exited: {log.read_text() if log.exists() else ''}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"dovecot did not listen on 127.0.0.1:{port}")


# Every mailbox user of the test server logs in with this password (a static passdb: any user name is a user).
PASSWORD = "app-password-1"


@dataclass
class ImapServer:
    host: str
    port: int

    def add_user(self) -> str:
        """A new mailbox (a fresh address, so no test sees another test's mail); its password is PASSWORD."""
        return f"cs-{uuid.uuid4().hex[:10]}@example.com"

    def deliver(self, address: str, raw: bytes | EmailMessage, password: str = PASSWORD) -> None:
        """Put one mail into the user's INBOX (IMAP APPEND)."""
        data = raw.as_bytes(policy=email.policy.SMTP) if isinstance(raw, EmailMessage) else raw
        client = imaplib.IMAP4(self.host, self.port, timeout=10)
        try:
            client.login(address, password)
            status, detail = client.append("INBOX", None, None, data)
            assert status == "OK", detail
        finally:
            client.logout()


def _dovecot_config(root: Path, port: int) -> str:
    if os.geteuid() == 0:
        internal, login, mail_user = "dovecot", "dovenull", "dovecot"
    else:
        internal = login = mail_user = pwd.getpwuid(os.geteuid()).pw_name
    return f"""
base_dir = {root}/run
state_dir = {root}/state
instance_name = shopbee-test-{port}
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = {root}/dovecot.log
mail_location = maildir:{root}/mail/%u
default_internal_user = {internal}
default_login_user = {login}
first_valid_uid = 0
passdb {{
  driver = static
  args = password={PASSWORD}
}}
userdb {{
  driver = static
  args = uid={mail_user} gid={mail_user} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


@pytest.fixture(scope="session")
def imap_server():
    if DOVECOT is None:
        pytest.skip("dovecot is not installed: `make mail-deps` (apt-get install dovecot-imapd)")
    # Not under pytest's temporary folder: that one is private to the test user, and dovecot's processes
    # run as its own users when the tests run as root.
    root = Path(tempfile.mkdtemp(prefix="shopbee-dovecot-"))
    port = free_port()
    for folder in ("run", "state", "mail", "home"):
        (root / folder).mkdir()
    (root / "dovecot.conf").write_text(_dovecot_config(root, port))
    if os.geteuid() == 0:
        # The mail processes run as the dovecot user: the maildirs must be theirs.
        for folder in ("mail", "home"):
            shutil.chown(root / folder, "dovecot", "dovecot")
        os.chmod(root, 0o755)
    log = root / "dovecot.log"
    process = subprocess.Popen([DOVECOT, "-F", "-c", str(root / "dovecot.conf")], stdout=subprocess.DEVNULL)
    try:
        _wait_for_port(port, process, log)
        yield ImapServer("127.0.0.1", port)
    finally:
        process.terminate()
        process.wait(timeout=15)
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class SmtpServer:
    host: str
    port: int
    username: str
    password: str
    received: list[EmailMessage] = field(default_factory=list)
    refusing: bool = False  # True: every mail is refused with a 451 (the server's temporary failure)

    def messages_to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.received if message["To"] == address]


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, smtp, session, envelope):
        if self.server.refusing:
            return "451 4.3.0 Try again later"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.server.received.append(message)
        return "250 OK"


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, as PEM files."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=7))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


@pytest.fixture
def smtp_server(settings, tmp_path):
    import ssl

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    server = SmtpServer("127.0.0.1", free_port(), "cs@example.com", "smtp-app-password")

    def authenticate(smtp, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == server.username
            and auth_data.password.decode() == server.password
        )
        return AuthResult(success=ok, handled=False)

    cert_file, key_file = _certificate(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert_file, key_file)
    settings.EMAIL_CHANNEL_CA_FILE = str(cert_file)
    controller = Controller(
        _Handler(server),
        hostname=server.host,
        port=server.port,
        authenticator=authenticate,
        auth_required=True,
        tls_context=tls,
        require_starttls=True,
    )
    controller.start()
    try:
        yield server
    finally:
        controller.stop()
