"""Say what the bot says about OCOP products: spotlights, browsing, contacts, similar products."""

from __future__ import annotations

import re
from typing import Any

from db.models import OcopProduct
from db.textmatch import fold
from messages.channels import plain
from messages.kinds import Kind, render_kind

# The six product groups of Decision 148/QĐ-TTg (2023), with the short forms staff write.
GROUPS: tuple[str, ...] = (  # the six groups of Decision 148/QĐ-TTg (2023)
    "Thực phẩm",
    "Đồ uống",
    "Thảo dược",
    "Thủ công mỹ nghệ",
    "Sinh vật cảnh",
    "Dịch vụ du lịch cộng đồng, du lịch sinh thái và điểm du lịch",
)
GROUP_ALIASES: dict[str, tuple[str, ...]] = {
    GROUPS[0]: ("food", "thuc pham che bien"),
    GROUPS[1]: ("do uong co con", "beverage", "beverages", "drink", "drinks"),
    GROUPS[2]: ("duoc lieu", "herbal", "herbs"),
    GROUPS[3]: ("thu cong", "my nghe", "luu niem", "trang tri", "handicraft", "handicrafts"),
    GROUPS[4]: ("hoa", "cay canh", "hoa cay canh", "ornamental", "flowers and plants"),
    GROUPS[5]: ("du lich", "dich vu du lich", "du lich cong dong", "du lich sinh thai", "tourism"),
}
_GROUP_BY_WORDS = {
    words: group for group in GROUPS for words in (fold(group), *GROUP_ALIASES[group])
}

CONTACT_BUTTON = "📞 Liên hệ HTX"
SIMILAR_BUTTON = "🔎 Sản phẩm tương tự"
PREVIOUS = "◀ Trang trước"
NEXT = "Trang sau ▶"
OTHER_GROUP = "↩ Chọn nhóm khác"
OTHER_PROVINCE = "↩ Chọn tỉnh khác"
PAGE_SIZE = 5

EMPTY_CATALOG = (
    "Hiện chưa có sản phẩm OCOP nào trong danh mục. Anh/chị quay lại sau nhé, "
    "khi có sản phẩm mới chúng tôi sẽ gửi tin."
)
ASK_PROVINCE = "🛍 Sản phẩm OCOP: anh/chị muốn xem sản phẩm của tỉnh, thành phố nào?"
GONE = (
    "Sản phẩm này hiện không còn trong danh mục OCOP. "
    "Anh/chị gõ /ocop để xem các sản phẩm khác nhé."
)
STALE = "Danh sách này đã thay đổi. Anh/chị gõ /ocop để xem lại từ đầu nhé."
TYPED_HELP = (
    "Anh/chị gõ /ocop để xem sản phẩm OCOP theo tỉnh và nhóm hàng, "
    "hoặc gõ tên tỉnh sau lệnh, ví dụ: /ocop Khánh Hòa"
)


def product_data(product: OcopProduct, province: str, commune: str | None) -> dict[str, Any]:
    """Map a product to what the spotlight template reads (place = commune, province)."""
    return {
        "name": product.name,
        "stars": product.stars,
        "year": product.year,
        "group": product.group,
        "cooperative": product.cooperative,
        "place": f"{commune}, {province}" if commune else province,
        "price": product.price,
        "unit": product.unit or "",
        "description": product.description,
        "where_to_buy": product.where_to_buy,
        "contact": product.contact,
    }


def spotlight(product: OcopProduct, province: str, commune: str | None) -> str:
    """Render a product's spotlight as Telegram HTML, as broadcasts send it."""
    return render_kind(Kind.OCOP_SPOTLIGHT, product=product_data(product, province, commune))


def product_card(product: OcopProduct, province: str, commune: str | None) -> str:
    """Write the spotlight as plain text for a conversation reply, with the photo's link."""
    text = plain(spotlight(product, province, commune))
    return f"{text}\n\n📷 Ảnh sản phẩm: {product.photo}" if product.photo else text


def own_province_empty(province: str) -> str:
    """Say that the member's province has no products yet, before the list of others."""
    return f"{province} chưa có sản phẩm OCOP trong danh mục. Mời anh/chị xem các tỉnh khác."


def province_not_found(text: str) -> str:
    """Say that a typed province has no products or does not exist."""
    return f"Chưa tìm thấy sản phẩm OCOP của “{text}”. Anh/chị chọn một tỉnh dưới đây nhé."


def province_label(province: str, count: int) -> str:
    """Label a province button with how many products it has."""
    return f"{province} ({count})"


def ask_group(province: str) -> str:
    """Ask which product group to see in a province."""
    return f"Sản phẩm OCOP của {province}. Anh/chị chọn nhóm sản phẩm:"


def group_label(group: str, count: int) -> str:
    """Label a group button with how many products it has."""
    return f"{group} ({count})"


def page_title(province: str, group: str, page: int, pages: int, total: int) -> str:
    """Head a page of products."""
    return (
        f"{group} – {province}: {total} sản phẩm, trang {page}/{pages}.\n"
        "Anh/chị chọn một sản phẩm để xem:"
    )


def product_label(name: str, stars: int, province: str | None = None) -> str:
    """Label a product button: its name, its stars, and its province when that helps."""
    where = f" – {province}" if province else ""
    return f"{name} {'★' * stars}{where}"


def contact(product: OcopProduct) -> str:
    """Say how to reach the producer and where to buy; kindly when no contact was given."""
    lines = [f"🏡 {product.cooperative}", f"Sản phẩm: {product.name}"]
    if product.contact:
        lines.append(f"☎️ Liên hệ: {product.contact}")
    else:
        lines.append(
            "☎️ HTX chưa để lại số liên hệ. Anh/chị có thể hỏi cán bộ xã hoặc "
            "Liên minh Hợp tác xã tỉnh để được giới thiệu."
        )
    if product.where_to_buy:
        lines.append(f"🛒 Nơi bán: {product.where_to_buy}")
    return "\n".join(lines)


def similar_title(group: str) -> str:
    """Head the list of products of the same group."""
    return f"Các sản phẩm OCOP cùng nhóm “{group}”. Anh/chị chọn để xem:"


def no_similar(group: str) -> str:
    """Say that no other product of the group is in the catalog."""
    return (
        f"Chưa có sản phẩm nào khác cùng nhóm “{group}” trong danh mục. "
        "Anh/chị gõ /ocop để xem các nhóm khác nhé."
    )


def group_named(text: str) -> str | None:
    """Return the canonical product group a typed name means, or None."""
    words = re.sub(r"^(nhom )?\d+ ", "", fold(text))  # "1. Thực phẩm", "Nhóm 2 Đồ uống"
    return _GROUP_BY_WORDS.get(words)
