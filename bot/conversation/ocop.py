"""Let members browse the OCOP catalog (/ocop) and act on a spotlight's buttons.

Browsing keeps no state of its own: every button carries where it leads (province, group,
page), so that an old list still works and a list typed by number on Zalo too.
Choice values: "r" the provinces, "p<province>" its groups, "g<province>.<group>.<page>" a
page of products, "v<product>" one product, "c<product>" its contact, "m<product>" similar.
"""

from __future__ import annotations

import math

from bot.conversation.events import Choice, Option, Reply
from bot.conversation.turn import Turn
from db.models import Area
from db.ocop import (
    active_product,
    catalog_groups,
    catalog_provinces,
    product_page,
    product_places,
    record_tap,
    similar_products,
)
from db.textmatch import fold, rank
from messages import member as say_member
from messages import ocop_texts as say

ACTION = "ocop"
SIMILAR_LIMIT = 8
# What a member types on a channel without buttons: "/ocop lienhe 12", "/ocop tuongtu 12".
TYPED = {"lienhe": "c", "lh": "c", "tuongtu": "m", "tt": "m", "xem": "v"}


def spotlight_buttons(product_id: int) -> list[dict[str, str]]:
    """Make a spotlight broadcast's two action buttons, with what to type where none show."""
    return [
        {
            "label": say.CONTACT_BUTTON,
            "data": Choice(ACTION, f"c{product_id}").pack(),
            "typed": f"/ocop lienhe {product_id}",
        },
        {
            "label": say.SIMILAR_BUTTON,
            "data": Choice(ACTION, f"m{product_id}").pack(),
            "typed": f"/ocop tuongtu {product_id}",
        },
    ]


def ocop_command(turn: Turn) -> list[Reply]:
    """Start browsing the catalog: by province, then product group, page by page."""
    if turn.subscriber is None:
        return [Reply(say_member.NOT_REGISTERED)]
    words = fold(turn.event.text).split()
    if not words:
        return _provinces(turn)
    if len(words) == 1 and words[0].isdigit():
        return _view(turn, int(words[0]))
    action = TYPED.get("".join(words[:-1]))
    if action is not None and words[-1].isdigit():
        return on_choice(turn, Choice(ACTION, f"{action}{words[-1]}"))
    return _typed_province(turn, turn.event.text)


def on_choice(turn: Turn, choice: Choice) -> list[Reply]:
    """Handle a tap on a browse button or a spotlight button, whatever step the member is in."""
    kind, rest = choice.value[:1], choice.value[1:]
    numbers = [int(part) for part in rest.split(".") if part.isdigit()]
    if len(numbers) != len(rest.split(".")):
        numbers = []  # not ours, or from an older version of these buttons
    if kind == "r":
        return _provinces(turn, edit=True)
    if kind == "p" and len(numbers) == 1:
        return _groups(turn, numbers[0], edit=True)
    if kind == "g" and len(numbers) == 3 and numbers[1] < len(say.GROUPS) and numbers[2] > 0:
        return _page(turn, *numbers)
    handler = {"v": _view, "c": _contact, "m": _similar}.get(kind)
    if handler is not None and len(numbers) == 1:
        return handler(turn, numbers[0])
    return [Reply(say.STALE)]


def _provinces(turn: Turn, *, edit: bool = False) -> list[Reply]:
    found = catalog_provinces(turn.session)
    if not found:
        return [Reply(say.EMPTY_CATALOG, edit=edit)]
    area = turn.member.area
    own = area.parent if area is not None else None
    found.sort(key=lambda pair: own is None or pair[0].id != own.id)  # the rest stay by name
    missing = own is not None and found[0][0].id != own.id
    notes = [Reply(say.own_province_empty(own.name))] if own is not None and missing else []
    options = tuple(
        Choice(ACTION, f"p{province.id}").option(
            say.province_label(province.name, count), province.search_name
        )
        for province, count in found
    )
    return [*notes, Reply(say.ASK_PROVINCE, options, edit=edit and not notes)]


def _typed_province(turn: Turn, text: str) -> list[Reply]:
    found = catalog_provinces(turn.session)
    matches = rank(text, ((province.search_name, province) for province, _ in found))
    if len(matches) == 1 or (matches and matches[0].grade < matches[1].grade):
        return _groups(turn, matches[0].item.id, edit=False)
    if not found:
        return [Reply(say.EMPTY_CATALOG)]
    return [Reply(say.province_not_found(text.strip())), *_provinces(turn)]


def _groups(turn: Turn, province_id: int, *, edit: bool) -> list[Reply]:
    province = turn.session.get(Area, province_id)
    counts = catalog_groups(turn.session, province_id)
    if province is None or not counts:
        return [Reply(say.STALE)]
    options = [
        Choice(ACTION, f"g{province_id}.{index}.1").option(
            say.group_label(group, counts[group]), group, *say.GROUP_ALIASES[group]
        )
        for index, group in enumerate(say.GROUPS)
        if group in counts
    ]
    options.append(Choice(ACTION, "r").option(say.OTHER_PROVINCE))
    return [Reply(say.ask_group(province.name), tuple(options), edit=edit)]


def _page(turn: Turn, province_id: int, group_index: int, page: int) -> list[Reply]:
    group, province = say.GROUPS[group_index], turn.session.get(Area, province_id)
    products, total = product_page(turn.session, province_id, group, page, say.PAGE_SIZE)
    pages = max(1, math.ceil(total / say.PAGE_SIZE))
    if page > pages and total:  # products were removed since the list was shown
        page = pages
        products, total = product_page(turn.session, province_id, group, page, say.PAGE_SIZE)
    if province is None or not products:
        return [Reply(say.STALE)]
    options = [
        Choice(ACTION, f"v{p.id}").option(say.product_label(p.name, p.stars)) for p in products
    ]
    if page > 1:
        options.append(
            Choice(ACTION, f"g{province_id}.{group_index}.{page - 1}").option(say.PREVIOUS)
        )
    if page < pages:
        options.append(Choice(ACTION, f"g{province_id}.{group_index}.{page + 1}").option(say.NEXT))
    options.append(Choice(ACTION, f"p{province_id}").option(say.OTHER_GROUP))
    title = say.page_title(province.name, group, page, pages, total)
    return [Reply(title, tuple(options), edit=True)]


def _actions(product_id: int, *, contact: bool = True) -> tuple[Option, ...]:
    similar = Choice(ACTION, f"m{product_id}").option(say.SIMILAR_BUTTON)
    if not contact:
        return (similar,)
    return (Choice(ACTION, f"c{product_id}").option(say.CONTACT_BUTTON), similar)


def _view(turn: Turn, product_id: int) -> list[Reply]:
    product = active_product(turn.session, product_id)
    if product is None:
        return [Reply(say.GONE)]
    province, commune = product_places(turn.session, product)
    return [Reply(say.product_card(product, province, commune), _actions(product.id))]


def _contact(turn: Turn, product_id: int) -> list[Reply]:
    product = active_product(turn.session, product_id)
    if product is None:
        return [Reply(say.GONE)]
    record_tap(turn.session, product, "contact", turn.member.area_id, turn.now)
    # The pressed keyboard goes away once answered: offer what it had left.
    return [Reply(say.contact(product), _actions(product.id, contact=False))]


def _similar(turn: Turn, product_id: int) -> list[Reply]:
    product = active_product(turn.session, product_id)
    if product is None:
        return [Reply(say.GONE)]
    record_tap(turn.session, product, "more", turn.member.area_id, turn.now)
    others = similar_products(turn.session, product, SIMILAR_LIMIT)
    if not others:
        return [Reply(say.no_similar(product.group))]
    options = []
    for other in others:
        elsewhere = other.province_id != product.province_id
        province = product_places(turn.session, other)[0] if elsewhere else None
        label = say.product_label(other.name, other.stars, province)
        options.append(Choice(ACTION, f"v{other.id}").option(label))
    return [Reply(say.similar_title(product.group), tuple(options))]
