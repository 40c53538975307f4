"""A real IMAP server for tests: Dovecot from Debian, one private instance per test session.

The instance runs from a temporary directory (its own config, sockets, logs and Maildirs), listens
on an ephemeral loopback port, and authenticates users from a passwd file the fixture writes.
Nothing of the system's Dovecot service is used or touched.
"""

from __future__ import annotations

import contextlib
import grp
import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

DOVECOT = "/usr/sbin/dovecot"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class IMAPAccount:
    username: str
    password: str


class DovecotServer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.host = "127.0.0.1"
        self.port = _free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._accounts: dict[str, str] = {}

    @property
    def config_path(self) -> Path:
        return self.root / "dovecot.conf"

    def _mail_owner(self) -> tuple[str, str]:
        """Dovecot never delivers mail as root, so under root the Maildirs belong to its own
        unprivileged user; anyone else owns their test's mail themselves."""
        if os.getuid() == 0:
            owner = pwd.getpwnam("dovecot")
            return owner.pw_name, grp.getgrgid(owner.pw_gid).gr_name
        return pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name

    def _make_mail_dir(self) -> None:
        mail = self.root / "mail"
        mail.mkdir(exist_ok=True)
        if os.getuid() == 0:
            owner = pwd.getpwnam("dovecot")
            os.chown(mail, owner.pw_uid, owner.pw_gid)

    def _write_config(self) -> None:
        user, group = self._mail_owner()
        self.root.chmod(0o755)  # the mail user must reach its Maildirs
        (self.root / "run").mkdir(parents=True, exist_ok=True)
        self._make_mail_dir()
        (self.root / "passwd").touch()
        internal = "dovecot" if os.getuid() == 0 else user
        login = "dovenull" if os.getuid() == 0 else user
        self.config_path.write_text(
            f"""
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_login_user = {login}
mail_location = maildir:{self.root}/mail/%u
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.root}/passwd
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={self.root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""
        )

    def add_account(self, username: str, password: str) -> IMAPAccount:
        self._accounts[username] = password
        lines = [f"{name}:{{PLAIN}}{secret}\n" for name, secret in self._accounts.items()]
        (self.root / "passwd").write_text("".join(lines))
        return IMAPAccount(username, password)

    def start(self) -> None:
        self._write_config()
        (self.root / "state").mkdir(exist_ok=True)
        self._process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.config_path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"dovecot exited: {self.log_tail()}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection((self.host, self.port), timeout=0.5),
            ):
                return
            time.sleep(0.1)
        raise RuntimeError(f"dovecot did not start listening: {self.log_tail()}")

    def log_tail(self) -> str:
        log = self.root / "dovecot.log"
        stderr = b""
        if self._process is not None and self._process.stderr and self._process.poll() is not None:
            stderr = self._process.stderr.read()
        text = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        return text + stderr.decode(errors="replace")[-2000:]

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.send_signal(signal.SIGTERM)
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
        self._process = None

    def client(self, account: IMAPAccount) -> imaplib.IMAP4:
        client = imaplib.IMAP4(self.host, self.port, timeout=10)
        client.login(account.username, account.password)
        return client

    def deliver(self, account: IMAPAccount, message: bytes, folder: str = "INBOX") -> None:
        """Put a message in a folder the way a mail server would (unseen)."""
        client = self.client(account)
        try:
            client.create(folder)  # "already exists" is fine
            status, detail = client.append(folder, "", None, message)
            if status != "OK":
                raise RuntimeError(f"APPEND failed: {detail!r}")
        finally:
            client.logout()

    def count(self, account: IMAPAccount, folder: str, criterion: str = "ALL") -> int:
        client = self.client(account)
        try:
            client.select(folder)
            status, data = client.search(None, criterion)
            return len(data[0].split()) if status == "OK" and data[0] else 0
        finally:
            client.logout()

    def reset_mail(self) -> None:
        shutil.rmtree(self.root / "mail", ignore_errors=True)
        self._make_mail_dir()
