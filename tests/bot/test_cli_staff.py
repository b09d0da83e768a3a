"""`outreach staff ...` and `outreach audit`, as an operator runs them."""

from __future__ import annotations

from pathlib import Path

from tests.bot.test_cli import run


def test_staff_commands_are_audited(database_url: str, tmp_path: Path) -> None:
    env = {"DATABASE_URL": database_url}

    def outreach(*args: str) -> tuple[int, str, str]:
        result = run(*args, env=env, cwd=tmp_path)
        return result.returncode, result.stdout, result.stderr

    code, out, _ = outreach("staff", "add", "111", "--role", "admin", "--name", "Anh Minh")
    assert code == 0 and out.startswith("1\tadmin\ttelegram:111\teverywhere\tAnh Minh")
    code, out, _ = outreach(
        "staff", "add", "222", "--role", "editor", "--province", "khanh hoa", "--commune", "my son"
    )
    assert code == 0 and "\teditor\ttelegram:222\tXã Mỹ Sơn\t" in out
    code, _, err = outreach("staff", "add", "333", "--role", "editor")
    assert code == 2 and "an editor works in one area" in err
    code, out, _ = outreach("staff", "set", "2", "--role", "approver", "--everywhere")
    assert code == 0 and "role: editor -> approver" in out and "area: Xã Mỹ Sơn -> None" in out
    code, _, err = outreach("staff", "remove", "1")
    assert code == 2 and "last admin" in err
    code, out, _ = outreach("staff", "remove", "2")
    assert code == 0 and out.startswith("removed: 2\tapprover")
    code, out, _ = outreach("staff", "list")
    assert out.strip().splitlines() == ["1\tadmin\ttelegram:111\teverywhere\tAnh Minh"]

    code, out, _ = outreach("audit")
    actions = [line.split("\t")[2] for line in out.strip().splitlines()]
    assert actions == ["staff.remove", "staff.change", "staff.add", "staff.add"]
    assert all(line.split("\t")[1].startswith("cli:") for line in out.strip().splitlines())
    code, out, _ = outreach("audit", "--action", "staff.change")
    assert '"role": ["editor", "approver"]' in out
    code, out, _ = outreach("audit", "--target", "staff:9")
    assert out.strip() == "no audit entries match"
