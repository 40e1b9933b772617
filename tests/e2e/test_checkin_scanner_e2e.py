"""In Chromium with a fake camera: the door page scans a ticket's QR code and turns green, the
same ticket again turns red; offline it checks codes itself, queues the admission and syncs it
when the network is back.

The camera is Chromium's fake capture device playing a .y4m video made from a ticket's QR
code. It is a launch argument, so each ticket shown to the camera gets its own browser.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import qrcode
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image
from playwright.sync_api import Browser, Locator, Page, Request, expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.accounts.models import Role
from app.domain.accounts.sessions import revoke_user_sessions
from app.domain.base import utcnow
from app.domain.checkin import scans
from app.domain.checkin.models import CheckIn
from app.domain.ticketing.bookings import cancel_booking
from app.domain.ticketing.models import Ticket
from app.domain.tickets import signing
from tests.browser import (
    ARTIFACTS,
    CHROMIUM_ARGS,
    PHONE,
    check_accessibility,
    chromium_path,
    log_in,
    screenshot,
)
from tests.waiting import WAIT

pytestmark = pytest.mark.e2e

WIDTH, HEIGHT = 640, 480
# The weight budget of the door page on a phone, its QR decoder included.
BUDGET = 300 * 1024


def fake_camera(text: str, path: Path) -> Path:
    """A few frames of video showing `text` as a QR code, large, black on white with a wide
    quiet zone, in the YUV4MPEG2 format Chromium's fake camera plays (in a loop)."""
    qr = qrcode.QRCode(border=4)
    qr.add_data(text)
    qr.make(fit=True)
    side = HEIGHT - 40
    code = qr.make_image(fill_color="black", back_color="white").get_image().convert("L")
    frame = Image.new("L", (WIDTH, HEIGHT), 255)
    frame.paste(code.resize((side, side), Image.NEAREST), ((WIDTH - side) // 2, 20))
    grey = bytes([128]) * (WIDTH // 2 * HEIGHT // 2)  # 4:2:0 colour planes, no colour
    with path.open("wb") as video:
        video.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(5):
            video.write(b"FRAME\n" + frame.tobytes() + grey + grey)
    return path


@pytest.fixture
def camera_browser(browser: Browser, tmp_path: Path) -> Iterator[Callable[[str], Browser]]:
    """`camera_browser(code)`: a Chromium whose camera shows `code` as a QR code (launched by
    the suite's own playwright: one per process)."""
    browsers: list[Browser] = []

    def launch(code: str) -> Browser:
        video = fake_camera(code, tmp_path / f"camera-{len(browsers)}.y4m")
        camera = browser.browser_type.launch(
            executable_path=chromium_path(),
            headless=True,
            args=[
                *CHROMIUM_ARGS,
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={video}",
            ],
        )
        browsers.append(camera)
        return camera

    yield launch
    for camera in browsers:
        camera.close()


@pytest.fixture
def door(db, make_user, make_event, make_tier, make_tickets, ticket_code) -> dict:  # noqa: ANN001
    """An organizer's published event with a buyer's four tickets and their codes, and the
    code of a ticket whose booking was cancelled."""
    organizer = make_user(role=Role.ORGANIZER, name="Olga Door")
    tier = make_tier(event=make_event(organizer=organizer, title="Night Market"), name="Entry")
    tickets = make_tickets(tier=tier, quantity=4, user=make_user(name="Tess Ticket"))
    codes = [ticket_code(ticket) for ticket in tickets]
    cancelled = make_tickets(tier=tier, user=make_user())[0]
    cancel_booking(db, cancelled.booking, actor_id=None, now=utcnow())
    db.commit()
    return {
        "organizer": organizer,
        "event": tier.event,
        "tickets": tickets,
        "codes": codes,
        "void_code": ticket_code(cancelled),
    }


def open_door(
    browser: Browser,
    door: dict,
    live_server,  # noqa: ANN001
    csrf_app,  # noqa: ANN001
    login_as,  # noqa: ANN001
    on_request: Callable[[Request], None] | None = None,
) -> Page:
    """The door page on a phone at the venue (on the event's clock), camera allowed, once it
    is ready to work offline; `on_request` sees every request from the start."""
    context = browser.new_context(viewport=PHONE, timezone_id=door["event"].timezone)
    context.set_default_timeout(WAIT * 1000)
    context.grant_permissions(["camera"], origin=live_server.url)
    if on_request:
        context.on("requestfinished", on_request)
    page = context.new_page()
    log_in(page, live_server, csrf_app, door["organizer"], login_as)
    page.goto(f"{live_server.url}/checkin/{door['event'].id}")
    expect(page.locator(".scanner-status")).to_contain_text("Ready offline")
    return page


def dismiss(flash: Locator) -> None:
    """Tap the answer away (dispatched: it may have gone by itself already, when a real click
    would wait for it to come back)."""
    flash.dispatch_event("click")
    expect(flash).to_be_hidden()


def phone_screen(page: Page, name: str) -> None:
    """What the phone's screen shows (a full-screen answer is as tall as the screen)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def check_ins(db: Session, ticket: Ticket) -> int:
    db.expire_all()
    return db.scalar(
        select(func.count())
        .select_from(CheckIn)
        .where(CheckIn.ticket_id == ticket.id, CheckIn.undone_at.is_(None))
    )


def test_the_camera_admits_a_ticket_and_turns_red_when_it_sees_it_again(
    camera_browser,
    door,
    db,
    live_server,
    csrf_app,
    login_as,  # noqa: ANN001
) -> None:
    page = open_door(camera_browser(door["codes"][0]), door, live_server, csrf_app, login_as)
    page.get_by_role("button", name="Start camera").click()
    flash = page.locator(".scan-flash")
    expect(flash.locator(".verdict-ok")).to_contain_text("Valid")
    expect(flash).to_contain_text("Tess Ticket")
    phone_screen(page, "checkin-green-phone")
    assert check_ins(db, door["tickets"][0]) == 1

    # The camera still sees the ticket: once the answer is gone and a moment has passed, it
    # is a new scan, and the server says it is already in.
    expect(flash).to_be_hidden()
    expect(page.locator("#scan-result .verdict-ok")).to_contain_text("Undo check-in")
    screenshot(page, "checkin-camera-phone")
    expect(flash.locator(".verdict-bad")).to_contain_text("Already checked in")
    phone_screen(page, "checkin-red-phone")
    expect(page.locator("#scan-result .verdict-bad")).to_contain_text("by Olga Door")
    assert check_ins(db, door["tickets"][0]) == 1


def test_offline_the_phone_checks_codes_itself_and_syncs_when_back_online(
    camera_browser,
    door,
    db,
    live_server,
    csrf_app,
    login_as,
    ticket_code,
    make_event,  # noqa: ANN001
) -> None:
    page = open_door(camera_browser(door["codes"][1]), door, live_server, csrf_app, login_as)
    status = page.locator(".scanner-status")
    flash = page.locator(".scan-flash")
    # "Ready offline": the service worker keeps the page and its files, and it opens again
    # with the network gone.
    page.context.set_offline(True)
    page.reload()
    expect(status).to_contain_text("No network")

    page.get_by_role("button", name="Start camera").click()
    expect(flash.locator(".verdict-ok")).to_contain_text("checked on this phone")
    expect(status).to_contain_text("1 scan waiting to sync")
    page.get_by_role("button", name="Stop camera").click()

    # Codes typed in go the same way: a forged one, another event's and a cancelled ticket's
    # are refused here.
    code = page.get_by_label("Ticket code")
    forged = signing.sign(
        Ed25519PrivateKey.generate(),
        signing.TicketCode(door["event"].id, door["tickets"][2].id, b"0000"),
    )
    elsewhere = ticket_code(door["tickets"][2], event_id=make_event().id)
    refusals = (
        (forged, "Not a ticket"),
        (elsewhere, "Another event"),
        (door["void_code"], "Not valid"),
    )
    for text, verdict in refusals:
        code.fill(text)
        code.press("Enter")
        expect(flash.locator(".verdict-bad")).to_contain_text(verdict)
        dismiss(flash)
        expect(flash).to_be_hidden()
    code.fill(door["codes"][2])
    code.press("Enter")
    expect(flash.locator(".verdict-ok")).to_be_visible()
    expect(status).to_contain_text("2 scans waiting to sync")
    phone_screen(page, "checkin-offline-green-phone")
    dismiss(flash)
    screenshot(page, "checkin-offline-waiting-phone")
    assert check_ins(db, door["tickets"][1]) == 0
    # Logging out would delete them from the phone: it asks first, and staying keeps them.
    # (Clicked from the page: a click from here would wait on the question it raises.)
    with page.expect_event("dialog") as asked:
        page.evaluate(
            "() => setTimeout(() =>"
            " document.querySelector('form[action=\"/logout\"] button').click())"
        )
    assert asked.value.message.startswith("2 scans have not been sent yet.")
    asked.value.dismiss()
    expect(status).to_contain_text("2 scans waiting to sync")

    # Meanwhile another gate, online, admitted the first of them.
    scans.scan(
        db,
        door["event"],
        code=door["codes"][1],
        gate="North",
        staff=door["organizer"],
        scan_id=None,
        now=utcnow(),
    )
    db.commit()

    page.context.set_offline(False)
    expect(status).to_contain_text("Ready offline")
    expect(page.locator(".scanner-problems")).to_contain_text(
        "Admitted twice while offline: here at gate Main"
    )
    expect(page.locator(".scanner-problems")).to_contain_text("at gate North")
    expect(page.locator("#counters .counter-total")).to_contain_text("2 / 4")  # live again
    screenshot(page, "checkin-synced-conflict-phone")
    assert check_ins(db, door["tickets"][1]) == 1
    assert check_ins(db, door["tickets"][2]) == 1

    # Online again, an answer drawn by the script can be undone like the server's own.
    code.fill(door["codes"][3])
    code.press("Enter")
    expect(flash.locator(".verdict-ok")).to_be_visible()
    dismiss(flash)
    page.locator("#scan-result").get_by_role("button", name="Undo check-in").click()
    expect(page.locator("#scan-result")).to_contain_text("Check-in undone")
    assert check_ins(db, door["tickets"][3]) == 0


def test_scans_the_server_cannot_take_wait_on_the_phone_until_it_can(
    browser,
    door,
    db,
    live_server,
    csrf_app,
    login_as,  # noqa: ANN001
) -> None:
    page = open_door(browser, door, live_server, csrf_app, login_as)
    status = page.locator(".scanner-status")
    flash = page.locator(".scan-flash")
    code = page.get_by_label("Ticket code")
    # The phone is online, but the server fails: the phone checks the code itself.
    page.route("**/scan", lambda route: route.fulfill(status=503))
    code.fill(door["codes"][0])
    code.press("Enter")
    expect(flash.locator(".verdict-ok")).to_contain_text("checked on this phone")
    expect(status).to_contain_text("1 scan waiting to sync.")
    dismiss(flash)
    assert check_ins(db, door["tickets"][0]) == 0

    # Signed out meanwhile: the server says so, and what waits stays on the phone.
    page.unroute("**/scan")
    revoke_user_sessions(db, door["organizer"].id, now=utcnow())
    db.commit()
    code.fill(door["codes"][1])
    code.press("Enter")
    expect(flash.locator(".verdict-bad")).to_contain_text("Log in again to scan.")
    expect(status).to_contain_text("1 scan waiting to sync: log in again to send them.")
    assert check_ins(db, door["tickets"][1]) == 0

    # Signed in again, the page sends what waited as it opens.
    log_in(page, live_server, csrf_app, door["organizer"], login_as)
    page.reload()
    expect(status).to_contain_text("Ready offline")
    assert check_ins(db, door["tickets"][0]) == 1


def test_the_door_page_is_accessible_and_light_on_a_phone(
    camera_browser,
    door,
    live_server,
    csrf_app,
    login_as,  # noqa: ANN001
) -> None:
    # Each file once, whoever fetched it (the page, the decoder's worker or the service worker)
    # and however often (a second fetch may be an empty "not modified"). Chromium tells no
    # body size for a worker's requests: their Content-Length stands in.
    sizes: dict[str, int] = {}

    def count(request: Request) -> None:
        response = request.response()
        size = request.sizes()["responseBodySize"] or int(
            response.headers.get("content-length", 0) if response else 0
        )
        sizes[request.url] = max(sizes.get(request.url, 0), size)

    browser = camera_browser(door["codes"][0])
    page = open_door(browser, door, live_server, csrf_app, login_as, on_request=count)
    page.get_by_role("button", name="Start camera").click()
    expect(page.locator(".scan-flash .verdict-ok")).to_be_visible()
    dismiss(page.locator(".scan-flash"))
    check_accessibility(page)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert any(re.search(r"/jsqr-1\.4\.0\.min\.[0-9a-f]{12}\.js$", url) for url in sizes)
    assert sum(sizes.values()) < BUDGET, sizes
