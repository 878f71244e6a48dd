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
