"""Read an OCOP catalog from CSV or XLSX and check every row, before anything is stored.

Staff keep the catalog in Excel, with Vietnamese headers in whatever accents and case; the
reader matches headers and values ignoring both. Errors name the line as staff see it in
their file (the header is line 1), so that they can fix them all in one go.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse
from zipfile import BadZipFile

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from db.ocop import Place, ProductRow
from db.textmatch import fold
from messages.ocop_texts import GROUPS, group_named

# Field -> folded headers that mean it, Vietnamese first.
HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("ten san pham", "san pham", "ten", "name", "product", "product name"),
    "cooperative": ("chu the", "chu the san xuat", "htx", "hop tac xa", "cooperative", "producer"),
    "stars": ("so sao", "hang sao", "xep hang", "sao", "stars", "rating"),
    "group": ("nhom san pham", "nhom", "group", "product group", "category"),
    "province": ("tinh", "tinh thanh pho", "tinh thanh", "province"),
    "commune": ("xa", "xa phuong", "phuong xa", "commune", "ward"),
    "description": ("mo ta", "gioi thieu", "description"),
    "price": ("gia", "gia ban", "price"),
    "unit": ("don vi", "don vi tinh", "dvt", "unit"),
    "photo": ("anh", "hinh anh", "anh san pham", "photo", "image", "picture"),
    "contact": ("lien he", "dien thoai", "so dien thoai", "contact", "phone"),
    "where_to_buy": ("noi ban", "diem ban", "where to buy", "shop"),
    "year": ("nam cong nhan", "nam", "year"),
}
REQUIRED = ("name", "cooperative", "stars", "group", "province")
# The longest value each column stores (db/models/ocop.py).
MAX_LENGTH = {"name": 200, "cooperative": 200, "unit": 40, "photo": 500, "contact": 200}
MAX_LENGTH["where_to_buy"] = 300
FIRST_OCOP_YEAR = 2013  # Quảng Ninh certified the first OCOP products; the country followed
_PRICE = re.compile(r"\d{1,3}(?:[.,]\d{3})+|\d+")
_CURRENCY = re.compile(r"(?:vnđ|vnd|đồng|đ)$")


class CatalogProblem(ValueError):
    """A file that cannot be read as a catalog at all: nothing in it can be imported."""


class Places(Protocol):
    """Find provinces and communes by name or code (the database answers, see db/ocop.py)."""

    def province(self, text: str) -> Place | None:
        """Return the province a name or code means, or None."""
        ...

    def commune(self, province_id: int, text: str) -> Place | None:
        """Return the commune of that province a name or code means, or None."""
        ...


@dataclass
class Catalog:
    """The good rows and, for the bad ones, one "line N: reason" per problem."""

    products: list[ProductRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    bad_lines: set[int] = field(default_factory=set)


Row = tuple[int, list[str]]  # the line number in the file, the cells


def read_rows(path: Path) -> list[Row]:
    """Read a .csv (UTF-8, comma or semicolon) or an .xlsx's first sheet as numbered rows."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise CatalogProblem(
                f"{path.name} is not UTF-8: in Excel, save it as 'CSV UTF-8'"
            ) from None
        return _csv_rows(text)
    if suffix == ".xlsx":
        return _xlsx_rows(path)
    raise CatalogProblem(f"{path.name}: give a .csv or .xlsx file")


def _csv_rows(text: str) -> list[Row]:
    lines = text.splitlines()
    # Comment lines may open the file (a note that it is sample data, say): they keep their
    # numbers, so that errors still name the line staff see.
    skip = next((i for i, line in enumerate(lines) if not line.startswith("#")), len(lines))
    first = lines[skip] if skip < len(lines) else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO("\n".join(lines[skip:])), delimiter=delimiter)
    rows: list[Row] = []
    start = 1
    for cells in reader:
        rows.append((skip + start, [c.strip() for c in cells]))
        start = reader.line_num + 1  # a quoted cell may span lines
    return rows


def _xlsx_rows(path: Path) -> list[Row]:
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, KeyError, OSError, ValueError) as exc:
        raise CatalogProblem(f"{path.name} cannot be read as an Excel workbook: {exc}") from None
    try:
        sheet = book.worksheets[0]
        return [
            (number, [_cell(value) for value in values])
            for number, values in enumerate(sheet.iter_rows(values_only=True), 1)
        ]
    finally:
        book.close()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel keeps 150000 and 2023 as floats
    return str(value).strip()


def parse_catalog(rows: Iterable[Row], places: Places, this_year: int) -> Catalog:
    """Check every row of a catalog; raise CatalogProblem when the file has no usable header."""
    # Decomposed accents (from some Mac and web tools) are stored composed, as typed elsewhere.
    filled = [
        (line, [unicodedata.normalize("NFC", c) for c in cells])
        for line, cells in rows
        if any(cells)
    ]
    if not filled:
        raise CatalogProblem("the file is empty")
    header_line, header = filled[0]
    columns = _columns(header, header_line)
    if len(filled) == 1:
        raise CatalogProblem(f"line {header_line}: a header but no products below it")
    catalog = Catalog()
    seen: dict[str, int] = {}
    for line, cells in filled[1:]:
        values = {name: cells[i] if i < len(cells) else "" for name, i in columns.items()}
        product, problems = _check(line, values, places, this_year)
        if product is not None and product.key in seen:
            problems.append(f"the same product as line {seen[product.key]}")
        if problems:
            catalog.errors += [f"line {line}: {problem}" for problem in problems]
            catalog.bad_lines.add(line)
        elif product is not None:
            seen[product.key] = line
            catalog.products.append(product)
    return catalog


def _columns(header: list[str], line: int) -> dict[str, int]:
    meaning = {words: name for name, headers in HEADERS.items() for words in headers}
    columns: dict[str, int] = {}
    for index, title in enumerate(header):
        name = meaning.get(fold(title))
        if name is not None and name not in columns:
            columns[name] = index
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise CatalogProblem(
            f"line {line}: missing column(s) {', '.join(missing)}; the header must name "
            "Tên sản phẩm, Chủ thể, Số sao, Nhóm sản phẩm and Tỉnh (or name, cooperative, "
            "stars, group, province)"
        )
    return columns


def _check(
    line: int, values: dict[str, str], places: Places, this_year: int
) -> tuple[ProductRow | None, list[str]]:
    problems = [f"{name} is empty" for name in REQUIRED if not values.get(name)]
    too_long = [(n, limit) for n, limit in MAX_LENGTH.items() if len(values.get(n, "")) > limit]
    problems += [f"{n} is longer than {limit} characters" for n, limit in too_long]
    stars, group = _stars(values["stars"], problems), _group(values["group"], problems)
    province, commune = _place(values, places, problems)
    price = _price(values.get("price", ""), problems)
    year = _year(values.get("year", ""), this_year, problems)
    photo = _photo(values.get("photo", ""), problems)
    if problems or province is None or stars is None or group is None:
        return None, problems
    name, cooperative = values["name"], values["cooperative"]
    texts = {f: values.get(f) or None for f in ("description", "unit", "contact", "where_to_buy")}
    return ProductRow(
        line=line,
        key=product_key(name, cooperative, province.name),
        name=name,
        cooperative=cooperative,
        stars=stars,
        group=group,
        province_id=province.id,
        commune_id=commune.id if commune else None,
        price=price,
        photo=photo,
        year=year,
        **texts,
    ), problems


def product_key(name: str, cooperative: str, province: str) -> str:
    """Build the key that makes a second import update a product rather than add it again."""
    return f"{fold(name)}|{fold(cooperative)}|{fold(province)}"[:400]


def _stars(text: str, problems: list[str]) -> int | None:
    if not text:
        return None
    drawn = text.replace("⭐", "★").strip()
    words = fold(text).removesuffix(" sao")
    stars = drawn.count("★") if drawn and set(drawn) <= {"★", "☆"} else None
    if stars is None and words.isdigit():
        stars = int(words)
    if stars not in (3, 4, 5):
        problems.append(f"stars must be 3, 4 or 5, not {text!r}")
        return None
    return stars


def _group(text: str, problems: list[str]) -> str | None:
    if not text:
        return None
    group = group_named(text)
    if group is None:
        problems.append(f"group {text!r} is not an OCOP product group ({'; '.join(GROUPS)})")
    return group


def _place(
    values: dict[str, str], places: Places, problems: list[str]
) -> tuple[Place | None, Place | None]:
    if not values["province"]:
        return None, None
    province = places.province(values["province"])
    if province is None:
        problems.append(f"unknown province {values['province']!r} (use a name after 1/7/2025)")
        return None, None
    commune_text = values.get("commune", "")
    if not commune_text:
        return province, None
    commune = places.commune(province.id, commune_text)
    if commune is None:
        problems.append(f"commune {commune_text!r} is not in {province.name}")
    return province, commune


def _price(text: str, problems: list[str]) -> int | None:
    if not text:
        return None
    amount = re.sub(r"\s+", "", text.lower()).split("/", 1)[0]  # "150.000 đ/kg"
    amount = _CURRENCY.sub("", amount)
    if _PRICE.fullmatch(amount):
        return int(re.sub(r"[.,]", "", amount))  # dots and commas group thousands
    problems.append(f"price {text!r} is not a number of đồng like 150.000")
    return None


def _year(text: str, this_year: int, problems: list[str]) -> int | None:
    if not text:
        return None
    if text.isdigit() and FIRST_OCOP_YEAR <= int(text) <= this_year:
        return int(text)
    problems.append(f"year {text!r} is not a year from {FIRST_OCOP_YEAR} to {this_year}")
    return None


def _photo(text: str, problems: list[str]) -> str | None:
    if not text:
        return None
    url = urlparse(text)
    if url.scheme in ("http", "https") and url.netloc and " " not in text:
        return text
    problems.append(f"photo {text!r} is not an http(s) link")
    return None
