"""Bad content gives every problem at once, each with file:line, key, expected and found."""

from __future__ import annotations

from click.testing import CliRunner

from policyprint.cli import main


def line_of(path, needle: str) -> int:
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return n
    raise AssertionError(needle)


def break_project(root):
    """One syntax error in site.yaml; a wrong type, a missing key and an unknown key in policy.yaml."""
    site = root / "content" / "site.yaml"
    site.write_text(site.read_text(encoding="utf-8").replace(
        "  phone: 44 77 20 00", "  phone: [44 77 20 00"), encoding="utf-8")
    policy = root / "content" / "policy.yaml"
    text = policy.read_text(encoding="utf-8")
    text = text.replace("  title: Børne- og Ungepolitik\n", "  title: [Børne- og Ungepolitik]\n", 1)
    text = text.replace("    page: 8\n", "", 1)
    text = text.replace("    title: Samarbejdet med forældrene\n",
                        "    title: Samarbejdet med forældrene\n    titel: En slåfejl\n", 1)
    policy.write_text(text, encoding="utf-8")
    return site, policy


def test_four_problems_four_messages_exit_2(project_copy):
    site, policy = break_project(project_copy)
    result = CliRunner().invoke(main, ["--root", str(project_copy), "check"])
    assert result.exit_code == 2
    section_line = line_of(policy, "- id: boernesyn")
    expected = [
        f"content/policy.yaml:{line_of(policy, 'title: [Børne-')}: meta.title: expected text, got a list",
        f"content/policy.yaml:{section_line}: sections[3]: missing required key 'page' "
        "(the page the section starts on in the page plan)",
        f"content/policy.yaml:{line_of(policy, 'titel: En')}: sections[4].titel: unknown key 'titel' "
        "(did you mean 'title'?)",
        f"content/site.yaml:{line_of(site, 'phone:')}: a list opened with '[' here is not closed with ']' "
        "(or put the value in quotes)",
        "      phone: [44 77 20 00",
        "             ^",
    ]
    lines = result.stderr.strip().splitlines()
    assert lines[:-1] == expected
    assert lines[-1] == "4 problems in the content; nothing was built."


def test_bad_content_writes_nothing(project_copy):
    break_project(project_copy)
    result = CliRunner().invoke(main, ["--root", str(project_copy), "build"])
    assert result.exit_code == 2
    assert not (project_copy / "output").exists()


def test_check_passes_on_the_real_content(project_copy):
    result = CliRunner().invoke(main, ["--root", str(project_copy), "check"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Content OK")


def test_missing_logo_and_bad_email_are_reported(project_copy):
    site = project_copy / "content" / "site.yaml"
    text = site.read_text(encoding="utf-8")
    text = text.replace("ballerup@ballerup.dk", "ballerup-at-ballerup.dk")
    text = text.replace("assets/wordmark.svg", "assets/missing.svg")
    site.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["--root", str(project_copy), "check"])
    assert result.exit_code == 2
    assert (f"content/site.yaml:{line_of(site, 'email:')}: publisher.email: expected an e-mail address "
            "such as navn@ballerup.dk, got 'ballerup-at-ballerup.dk'") in result.stderr
    # The logo rule is cross-file: it runs only once every file is well-formed.
    text = text.replace("ballerup-at-ballerup.dk", "ballerup@ballerup.dk")
    site.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["--root", str(project_copy), "check"])
    assert f"content/site.yaml:{line_of(site, 'logo:')}: publisher.logo: file not found: content/assets/missing.svg" \
        in result.stderr


def test_unknown_colour_role_in_a_stylesheet(project_copy):
    css = project_copy / "styles" / "policy.css"
    css.write_text(css.read_text(encoding="utf-8") + "\n.x { color: var(--colour-blue); }\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["--root", str(project_copy), "check"])
    n = len(css.read_text(encoding="utf-8").splitlines())
    assert f"styles/policy.css:{n}: --colour-blue: unknown colour role (not in content/brand.yaml)" in result.stderr


def test_duplicate_commitment_id(project_copy):
    policy = project_copy / "content" / "policy.yaml"
    text = policy.read_text(encoding="utf-8").replace("id: syn-medansvar", "id: syn-styrker")
    policy.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["--root", str(project_copy), "check"])
    assert result.exit_code == 2
    first = line_of(policy, "id: syn-styrker")
    assert f"sections[3].lists[0].items[2].id: duplicate id 'syn-styrker' (first used at line {first})" \
        in result.stderr


# ---- YAML mistakes a communications officer makes, explained in plain words ----

def check_stderr(root) -> str:
    result = CliRunner().invoke(main, ["--root", str(root), "check"])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.stderr


def test_a_key_without_its_colon_is_named_on_its_own_line(project_copy):
    policy = project_copy / "content" / "policy.yaml"
    text = policy.read_text(encoding="utf-8")
    policy.write_text(text.replace("  date: 2026-", "  date 2026-", 1), encoding="utf-8")
    line = line_of(policy, "  date 2026-")
    shown = policy.read_text(encoding="utf-8").splitlines()[line - 1]
    assert check_stderr(project_copy).splitlines()[:3] == [
        f"content/policy.yaml:{line}: a key needs a colon after it: `{shown.strip()}`",
        f"    {shown}",
        "      ^",
    ]


def test_a_colon_inside_a_value_asks_for_quotes(project_copy):
    site = project_copy / "content" / "site.yaml"
    text = site.read_text(encoding="utf-8")
    site.write_text(text.replace("  phone: 44 77 20 00", "  phone: Omstilling: 44 77 20 00", 1), encoding="utf-8")
    line = line_of(site, "Omstilling:")
    assert check_stderr(project_copy).splitlines()[:3] == [
        f"content/site.yaml:{line}: a value that contains ': ' must be in quotes, such as: key: \"value: more\"",
        "      phone: Omstilling: 44 77 20 00",
        "                       ^",
    ]


def test_bad_indentation_is_named_on_its_own_line(project_copy):
    site = project_copy / "content" / "site.yaml"
    text = site.read_text(encoding="utf-8")
    site.write_text(text.replace("  email: ", "   email: ", 1), encoding="utf-8")
    assert check_stderr(project_copy).splitlines()[0] == (
        f"content/site.yaml:{line_of(site, 'email:')}: this line is indented more than the line above it; "
        "line it up with its neighbours")
    line = line_of(site, "phone:")
    site.write_text(text.replace("  phone: 44 77 20 00", " phone: 44 77 20 00", 1), encoding="utf-8")
    assert check_stderr(project_copy).splitlines()[0] == (
        f"content/site.yaml:{line}: this line's indentation does not match the lines above it; "
        "the keys of one mapping must start in the same column")


def test_a_tab_is_named(project_copy):
    site = project_copy / "content" / "site.yaml"
    text = site.read_text(encoding="utf-8")
    site.write_text(text.replace("  phone: 44 77 20 00", "\tphone: 44 77 20 00", 1), encoding="utf-8")
    assert check_stderr(project_copy).splitlines()[0] == \
        f"content/site.yaml:{line_of(site, 'phone:')}: a tab is used for indentation; YAML needs spaces"


def test_a_control_character_is_a_content_error_not_a_traceback(project_copy):
    policy = project_copy / "content" / "policy.yaml"
    text = policy.read_text(encoding="utf-8")
    policy.write_text(text.replace("  title: Børne- og Ungepolitik\n", "  title: Børne-\x07 og Ungepolitik\n", 1),
                      encoding="utf-8")
    line = line_of(policy, "Børne-\x07")
    assert check_stderr(project_copy).splitlines()[:3] == [
        f"content/policy.yaml:{line}: the invisible control character U+0007 is not allowed in content; delete it",
        "      title: Børne-? og Ungepolitik",
        "                   ^",
    ]
    # The same character written as a YAML escape reaches the schema, which says the same.
    policy.write_text(text.replace("  title: Børne- og Ungepolitik\n", '  title: "Børne-\\a og Ungepolitik"\n', 1),
                      encoding="utf-8")
    assert check_stderr(project_copy).splitlines()[0] == (
        f"content/policy.yaml:{line}: meta.title: the invisible control character U+0007 is not allowed in "
        "content; delete it")


def test_a_profile_path_too_long_for_the_file_system_is_a_content_error(project_copy):
    # Found by `make fuzz` (tests/test_fuzz.py): ENAMETOOLONG was a traceback.
    path = project_copy / "content/print.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("profile: FOGRA39", "profile: " + "x" * 300),
                    encoding="utf-8")
    result = CliRunner().invoke(main, ["--root", str(project_copy), "check"])
    assert result.exit_code == 2, result.output
    assert "content/print.yaml:6: output_intent.profile: cannot use the profile " in result.stderr
    assert result.stderr.splitlines()[0].endswith(": File name too long")


def test_a_number_where_text_belongs_is_text_to_every_later_stage(project_copy):
    # Found by `make fuzz`: the schema let the number through, the hyphenation rule then crashed.
    path = project_copy / "content/hyphenation.yaml"
    text = path.read_text(encoding="utf-8").replace("Ungepolitikken: Unge|politik|ken", "Ungepolitikken: 0")
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["--root", str(project_copy), "check"])
    assert result.exit_code == 2, result.output
    line = next(n for n, l in enumerate(text.splitlines(), 1) if "Ungepolitikken: 0" in l)
    assert (f"content/hyphenation.yaml:{line}: exceptions[0].Ungepolitikken: expected 'Ungepolitikken' with '|' "
            "at break points, got '0'") in result.stderr
