"""SMS through an HTTP gateway, as the provincial brandname SMS services work: POST JSON
{to, text, ref[, sender]} to `sms_url` with `Authorization: Bearer <sms_token>`; any 2xx is taken.

`ref` is the notification's dedupe key: a message sent again after a crash, or after a gateway that
took it but whose answer was lost, carries the same ref, so the gateway can drop the duplicate."""

from __future__ import annotations

import aiohttp

from server.config import Settings

from .errors import PermanentError, TemporaryError


def configured(settings: Settings) -> bool:
    return bool(settings.sms_url)


async def send(settings: Settings, to: str, text: str, ref: str, *, http: aiohttp.ClientSession | None = None) -> None:
    body: dict[str, str] = {"to": to, "text": text, "ref": ref}
    if settings.sms_sender:
        body["sender"] = settings.sms_sender
    headers = {"Authorization": f"Bearer {settings.sms_token}"} if settings.sms_token else {}
    timeout = aiohttp.ClientTimeout(total=settings.sms_timeout_seconds)
    own = http is None
    session = http or aiohttp.ClientSession()
    try:
        async with session.post(settings.sms_url, json=body, headers=headers, timeout=timeout) as response:
            if 200 <= response.status < 300:
                return
            # the body may echo the number: only the status goes to last_error
            kind = PermanentError if 400 <= response.status < 500 and response.status not in (408, 429) \
                else TemporaryError
            raise kind(f"sms gateway: HTTP {response.status} {response.reason or ''}".strip())
    except (aiohttp.ClientError, OSError, TimeoutError) as err:
        raise TemporaryError(f"sms gateway: {type(err).__name__}") from None
    finally:
        if own:
            await session.close()
