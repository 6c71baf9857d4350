"""A real SMTP server for the notification tests: Debian's python3-aiosmtpd
on 127.0.0.1, on a port of its choosing (printed as "ready PORT").

With --cert/--key it offers STARTTLS and requires it before anything else;
with --user/--password it requires AUTH (over TLS only). Each accepted
message is written to --out as NAME.eml, preceded by X-Test-* lines saying
what the session was: the envelope, whether it was encrypted, who logged in.
It runs until its standard input closes.
"""
import argparse
import asyncio
import os
import ssl
import sys
import uuid

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

p = argparse.ArgumentParser()
p.add_argument("--out", required=True)
p.add_argument("--cert")
p.add_argument("--key")
p.add_argument("--user")
p.add_argument("--password")
args = p.parse_args()


class Handler:
    async def handle_DATA(self, server, session, envelope):
        head = (
            f"X-Test-Mail-From: {envelope.mail_from}\r\n"
            f"X-Test-Rcpt-To: {','.join(envelope.rcpt_tos)}\r\n"
            f"X-Test-TLS: {session.ssl is not None}\r\n"
            f"X-Test-Login: {session.auth_data or ''}\r\n"
        )
        name = os.path.join(args.out, uuid.uuid4().hex)
        with open(name + ".tmp", "wb") as f:
            f.write(head.encode() + envelope.original_content)
        os.rename(name + ".tmp", name + ".eml")
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login.decode() == args.user
        and auth_data.password.decode() == args.password
    )
    if ok:
        return AuthResult(success=True, auth_data=auth_data.login.decode())
    return AuthResult(success=False, handled=False)


def factory():
    kw = {}
    if args.cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(args.cert, args.key)
        kw.update(tls_context=ctx, require_starttls=True)
    if args.user:
        kw.update(authenticator=authenticator, auth_required=True, auth_require_tls=True)
    return SMTP(Handler(), hostname="lockstep-test-smtpd", **kw)


async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(factory, "127.0.0.1", 0)
    print("ready", server.sockets[0].getsockname()[1], flush=True)
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


asyncio.run(main())
