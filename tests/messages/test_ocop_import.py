"""Reading OCOP catalogs staff keep in Excel or CSV: every bad row named, nothing half-imported."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.cli import main
from db.models import Area, OcopProduct
from db.ocop import AreaPlaces
from messages.ocop import Catalog, CatalogProblem, parse_catalog, read_rows

YEAR = 2026
GOOD_CSV = (
    "\ufeffTên sản phẩm;Chủ thể;Hạng sao;Nhóm sản phẩm;Tỉnh;Xã;Giá;Đơn vị;Ảnh;Năm công nhận\n"
    "Nước mắm Cà Ná;HTX Thủy sản Cà Ná;4;Thực phẩm;Khánh Hòa;Xã Cà Ná;150.000 đ;chai;"
    "https://example.vn/nuoc-mam.jpg;2023\n"
    '"Chè Tân Cương; loại đặc biệt";HTX Chè Tân Cương;5 sao;do uong;thai nguyen;tan cuong;'
    "600000;kg;;2021\n"
)
BAD_CSV = (
    "ten san pham,chu the,so sao,nhom san pham,tinh,xa,gia,anh,nam cong nhan\n"
    "Nước mắm Cà Ná,HTX Thủy sản Cà Ná,4,Thực phẩm,56,,95.000,,2023\n"  # good: province by code
    "Yến sào,HTX Yến sào Nha Trang,6,Thực phẩm,Khánh Hòa,,,,\n"  # line 3: six stars
    "Rượu nho,HTX Nho,4,Đồ uống,Ninh Thuận cũ,,,,\n"  # line 4: not a province now
    "Gốm Bát Tràng,HTX Gốm,4,Lưu niệm,Hà Nội,Xã Mỹ Sơn,,,\n"  # line 5: commune elsewhere
    "Lụa Vạn Phúc,HTX Lụa,4,Thủ công mỹ nghệ,Hà Nội,,năm chục,,\n"  # line 6: price
    "Chè Tân Cương,HTX Chè,5,Đồ uống,Thái Nguyên,,,anh.jpg,1990\n"  # line 7: photo and year
    "Khăn lụa,HTX Dệt,3,Vải và may mặc,Lâm Đồng,,,,\n"  # line 8: not one of the six groups
    "nuoc mam ca na,htx thuy san ca na,3,Thực phẩm,Khánh Hòa,,,,\n"  # line 9: same as line 2
    ",HTX Trống,4,Thực phẩm,Hà Nội,,,,\n"  # line 10: no name
    "Bánh chưng Tranh Khúc,HTX Bánh chưng,3,Thực phẩm,Hà Nội,Xã Thanh Trì,70000,,2021\n"
)
BAD_LINES = {
    3: "stars must be 3, 4 or 5, not '6'",
    4: "unknown province 'Ninh Thuận cũ'",
    5: "commune 'Xã Mỹ Sơn' is not in Thành phố Hà Nội",
    6: "price 'năm chục' is not a number",
    7: "photo 'anh.jpg' is not an http(s) link",
    8: "group 'Vải và may mặc' is not an OCOP product group",
    9: "the same product as line 2",
    10: "name is empty",
}


def parse(sessions: sessionmaker[Session], path: Path) -> Catalog:
    """Read and check a file against the areas in the test database."""
    with sessions() as session:
        return parse_catalog(read_rows(path), AreaPlaces(session), YEAR)


def import_file(database_url: str, path: Path, *flags: str) -> tuple[int, str, str]:
    """Run `outreach ocop import` in this process; return the exit code, stdout and stderr."""
    with contextlib.chdir(path.parent):
        result = CliRunner().invoke(
            main, ["ocop", "import", str(path), *flags], env={"DATABASE_URL": database_url}
        )
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def names(sessions: sessionmaker[Session]) -> list[str]:
    """List the stored products' names."""
    with sessions() as session:
        return sorted(session.scalars(select(OcopProduct.name)))


def test_good_csv_with_bom_semicolons_and_any_accents(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    path = tmp_path / "ocop.csv"
    path.write_text(GOOD_CSV, encoding="utf-8")
    catalog = parse(sessions, path)
    assert catalog.errors == []
    first, second = catalog.products
    assert (first.name, first.stars, first.price, first.unit) == (
        "Nước mắm Cà Ná",
        4,
        150000,
        "chai",
    )
    assert first.photo == "https://example.vn/nuoc-mam.jpg" and first.year == 2023
    assert second.name == "Chè Tân Cương; loại đặc biệt"  # a quoted delimiter stays in the cell
    assert (second.stars, second.group, second.price) == (5, "Đồ uống", 600000)
    with sessions() as session:
        province = session.get(Area, second.province_id)
        commune = session.get(Area, second.commune_id)
    assert province is not None and province.name == "Tỉnh Thái Nguyên"
    assert commune is not None and commune.name == "Xã Tân Cương"
    assert second.key == "che tan cuong loai dac biet|htx che tan cuong|tinh thai nguyen"


def test_good_xlsx_first_sheet_with_english_headers(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Name", "Cooperative", "Stars", "Group", "Province", "Commune", "Price", "Year"])
    sheet.append(
        ["Cà phê Cầu Đất", "HTX Cà phê Cầu Đất", 4, "Đồ uống", "Lâm Đồng", None, 280000, 2022]
    )
    sheet.append([None] * 8)  # blank rows in between are not products
    sheet.append(["Atiso túi lọc", "HTX Atiso", 3.0, "thao duoc", "68", "", 55000.0, 2023.0])
    book.create_sheet("Ghi chú").append(["not read: only the first sheet is"])
    path = tmp_path / "ocop.xlsx"
    book.save(path)
    catalog = parse(sessions, path)
    assert catalog.errors == []
    assert [(p.line, p.name, p.stars, p.group, p.price, p.year) for p in catalog.products] == [
        (2, "Cà phê Cầu Đất", 4, "Đồ uống", 280000, 2022),
        (4, "Atiso túi lọc", 3, "Thảo dược", 55000, 2023),
    ]
    assert catalog.products[0].province_id == catalog.products[1].province_id  # name or code


def test_every_bad_row_is_named_with_its_line_and_reason(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    path = tmp_path / "ocop.csv"
    path.write_text(BAD_CSV, encoding="utf-8")
    catalog = parse(sessions, path)
    assert [p.line for p in catalog.products] == [2, 11]
    assert catalog.bad_lines == set(BAD_LINES)
    for line, reason in BAD_LINES.items():
        assert any(e.startswith(f"line {line}: {reason}") for e in catalog.errors), (line, catalog)
    assert any(e.startswith("line 7: year '1990' is not a year") for e in catalog.errors)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "the file is empty"),
        ("\n\n", "the file is empty"),
        ("Tên sản phẩm,Chủ thể,Số sao,Nhóm sản phẩm,Tỉnh\n", "line 1: a header but no products"),
        ("Tên sản phẩm,Chủ thể,Tỉnh\nA,B,Hà Nội\n", "line 1: missing column(s) stars, group"),
    ],
)
def test_a_file_that_is_no_catalog(
    sessions: sessionmaker[Session], tmp_path: Path, text: str, problem: str
) -> None:
    path = tmp_path / "ocop.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogProblem, match=problem.replace("(", r"\(").replace(")", r"\)")):
        parse(sessions, path)


def test_cli_imports_nothing_from_a_bad_file_unless_told_to_skip(
    database_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    path = tmp_path / "ocop.csv"
    path.write_text(BAD_CSV, encoding="utf-8")
    code, out, err = import_file(database_url, path)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == [
        f"line {n}" for n in (3, 4, 5, 6, 7, 7, 8, 9, 10)
    ]
    assert lines[-1].startswith("error: 8 rows have errors; nothing was imported")
    assert names(sessions) == []

    code, out, err = import_file(database_url, path, "--skip-bad")
    assert code == 0, err
    assert out.strip() == "added 2, updated 0, skipped 8"
    assert "line 3: stars must be 3, 4 or 5" in err
    assert names(sessions) == ["Bánh chưng Tranh Khúc", "Nước mắm Cà Ná"]


def test_cli_import_again_updates_and_never_duplicates(
    database_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    sample = Path(__file__).resolve().parents[2] / "bench" / "data" / "ocop_sample.csv"
    code, out, err = import_file(database_url, sample)
    assert (code, out.strip()) == (0, "added 20, updated 0, skipped 0"), err
    changed = tmp_path / "ocop.csv"
    changed.write_text(sample.read_text(encoding="utf-8").replace("95.000", "99.000"), "utf-8")
    code, out, err = import_file(database_url, changed)
    assert (code, out.strip()) == (0, "added 0, updated 20, skipped 0"), err
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(OcopProduct)) == 20
        price = session.scalar(select(OcopProduct.price).where(OcopProduct.name.like("Nước mắm%")))
        provinces = session.scalar(select(func.count(func.distinct(OcopProduct.province_id))))
    assert price == 99000 and provinces == 5


OLD_NAMES_CSV = (
    "Tên sản phẩm,Chủ thể,Số sao,Nhóm sản phẩm,Tỉnh,Xã\n"
    "Yến sào,HTX Yến sào,5,Thực phẩm,khanh hao,\n"  # a typo: the one province near
    "Cà phê,HTX Cà phê,4,Đồ uống,TP HCM,Phường Sài Gòn\n"  # what people call the city
    "Rượu Bàu Đá,HTX Bàu Đá,4,Đồ uống,Bình Định,Xã Vĩnh Kim\n"  # before 1/7/2025
    "Nem chợ Huyện,HTX Nem,3,Thực phẩm,Gia Lai,Xã Vĩnh Kim\n"  # the same commune, now's province
    "Bánh tráng,HTX Bánh,3,Thực phẩm,Hải Phòng,Phường Vĩnh Niệm\n"  # split: which part?
)


def test_cli_takes_old_and_near_names_and_says_what_it_took_them_as(
    database_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    path = tmp_path / "ocop.csv"
    path.write_text(OLD_NAMES_CSV, encoding="utf-8")
    code, out, err = import_file(database_url, path, "--skip-bad")
    assert code == 0, err
    assert out.strip() == "added 4, updated 0, skipped 1"
    vinh_kim = (
        'taken "Xã Vĩnh Kim" (former, before 1/7/2025) as Xã Vĩnh Sơn, Tỉnh Gia Lai (code 21787)'
    )
    assert err.strip().splitlines() == [
        'line 2 (province): taken "khanh hao" as Tỉnh Khánh Hòa (code 56)',
        'line 3 (province): taken "TP HCM" as Thành phố Hồ Chí Minh (code 79)',
        'line 4 (province): taken "Bình Định" (former province, merged in 2025) as all of Tỉnh '
        "Gia Lai (code 52)",
        f"line 4 (commune): {vinh_kim}",
        f"line 5 (commune): {vinh_kim}",
        "line 6: commune 'Phường Vĩnh Niệm' is not in Thành phố Hải Phòng",
    ]
    with sessions() as session:
        stored = {
            p.name: (session.get_one(Area, p.province_id).name, p.commune_id)
            for p in session.scalars(select(OcopProduct))
        }
        vinh_son = session.scalar(select(Area.id).where(Area.code == 21787))
    assert stored == {
        "Yến sào": ("Tỉnh Khánh Hòa", None),
        "Cà phê": ("Thành phố Hồ Chí Minh", stored["Cà phê"][1]),
        "Rượu Bàu Đá": ("Tỉnh Gia Lai", vinh_son),
        "Nem chợ Huyện": ("Tỉnh Gia Lai", vinh_son),
    }
    assert stored["Cà phê"][1] is not None


def test_cli_refuses_a_file_that_is_not_utf8(database_url: str, tmp_path: Path) -> None:
    path = tmp_path / "ocop.csv"
    path.write_bytes("Tên sản phẩm,Chủ thể\n".encode("utf-16"))  # Excel's "Unicode text"
    code, _, err = import_file(database_url, path)
    assert code == 2
    assert err.strip() == (
        "error: ocop.csv is not UTF-8: in Excel, save it as 'CSV UTF-8'; nothing was imported"
    )
