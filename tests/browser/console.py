"""Driving the console page as a proctor does: sign in through the form, find a candidate's
element by its contract attributes, open a dialog, fill it and send."""

from __future__ import annotations

from playwright.async_api import Locator, Page

from proctor_server.app import Server


async def sign_in(page: Page, server: Server, token: str) -> None:
    """Through the sign-in form, then wait for the grid's first snapshot."""
    await page.goto(server.url + "/")
    await page.fill("#token", token)
    await page.click('[data-action="signin"]')
    await page.wait_for_selector('body[data-ready="true"]')


def seat(page: Page, code: str) -> Locator:
    return page.locator(f'[data-candidate="{code}"]')


def row(page: Page, attempt: str) -> Locator:
    return page.locator(f'#grid [data-attempt="{attempt}"]')


async def act(page: Page, where: Locator, action: str, **fields: str) -> None:
    """Click `action` in `where`, fill the dialog's fields, confirm, send; wait until the
    server acknowledged it (the dialog closes on ack and stays open showing an error)."""
    await where.locator(f'[data-action="{action}"]').click()
    await fill_and_send(page, **fields)


async def fill_and_send(page: Page, **fields: str) -> None:
    dialog = page.locator("#action-dialog")
    for name, value in fields.items():
        field = dialog.locator(f"[name={name}]")
        if await field.evaluate("e => e.tagName") == "SELECT":
            await field.select_option(value)
        else:
            await field.fill(value)
    if await dialog.locator("[name=confirm]").count():
        await dialog.locator("[name=confirm]").check()
    await dialog.locator('[data-dialog="submit"]').click()
    await page.wait_for_function("!document.getElementById('action-dialog').open")
