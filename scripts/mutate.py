#!/usr/bin/env python3
"""Break the guards on purpose, one at a time, and show that a named test catches each break.

Every mutation is a textual patch found by a unique anchor in the source. It is applied to a
temporary copy of the checkout (this tree, uncommitted edits included; `.venv`, the ICC
profile and the font instances are linked, not copied), and only the mutation's named tests run there, with the copy first
on sys.path (and in PYTHONPATH for the builds the tests start as subprocesses). A row is
"caught" when those tests fail; the run exits 1 when any row is not caught, when an anchor is
no longer in the source (the table never passes by skipping a row), or when the named tests
fail on the unmutated copy (the baseline: a test that always fails catches nothing).

    .venv/bin/python scripts/mutate.py              # every row (also: make mutate)
    .venv/bin/python scripts/mutate.py --list       # the rows, without running anything
    .venv/bin/python scripts/mutate.py url-fence strict-ignored   # some rows only
    .venv/bin/python scripts/mutate.py --jobs 1 --no-baseline
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COPIED = ("policyprint", "tests", "content", "templates", "styles", "scripts", "docs", "bench",
          "build.py", "pyproject.toml", "README.md", "Makefile")
TIMEOUT_S = 1200
LOGS = Path(tempfile.gettempdir()) / "policyprint-mutate-logs"   # each run's pytest output, by row


@dataclass
class Mutation:
    name: str
    file: str
    anchor: str
    replacement: str
    tests: list[str] = field(default_factory=list)
    what: str = ""


def stub(name: str, file: str, anchor: str, tests: list[str], value: str = "[]", what: str = "") -> Mutation:
    """The function whose def (or docstring) line is `anchor` returns `value` at once (e.g. no findings)."""
    line = anchor.splitlines()[-1]
    indent = len(line) - len(line.lstrip())
    indent += 4 if line.rstrip().endswith(":") else 0
    return Mutation(name, file, anchor, f"{anchor}\n{' ' * indent}return {value}", tests,
                    what or f"{anchor.strip().split('(')[0].removeprefix('def ')} returns {value}")


def T(module: str, *names: str) -> list[str]:
    return [f"tests/{module}.py::{n}" for n in names]


P = "policyprint/"
MUTATIONS: list[Mutation] = [
    # ---- sanity: proves the copy is the code under test --------------------------------------
    Mutation("sanity", P + "finish.py",
             'return [] if n == expected else [f"has {n} pages, expected exactly {expected}"]',
             'return [f"has {n} pages, expected exactly {expected}"]',
             T("test_guards", "test_a_wrong_page_count_is_found"),
             "check_page_count always finds a wrong count (must obviously be caught)"),

    # ---- the list ---------------------------------------------------------------------
    Mutation("url-fence", P + "pdf.py",
             "if path in files or any(path.is_relative_to(root) for root in dirs):", "if True:",
             T("test_security_assets", "test_a_refused_url_is_named_in_the_job_errors",
               "test_the_profile_folder_is_not_readable_only_the_profile"),
             "the URL fetcher serves any local file"),
    Mutation("network-fence", P + "pdf.py",
             'if scheme == "data":', 'if scheme in ("data", "http", "https"):',
             T("test_safety", "test_the_network_is_refused"),
             "the URL fetcher reaches the network"),
    Mutation("fast-path-skips-templates", P + "build.py",
             'for folder in ("content", "templates", "styles"):\n        for path in sorted(p for p in (root / folder)',
             'for folder in ("content", "styles"):\n        for path in sorted(p for p in (root / folder)',
             T("test_engine", "test_a_template_edit_leaves_the_fast_path_and_rebuilds"),
             "the no-change fast path's input hash skips templates/"),
    Mutation("fast-path-skips-styles", P + "build.py",
             'for folder in ("content", "templates", "styles"):\n        for path in sorted(p for p in (root / folder)',
             'for folder in ("content", "templates"):\n        for path in sorted(p for p in (root / folder)',
             T("test_engine", "test_a_template_edit_leaves_the_fast_path_and_rebuilds"),
             "the no-change fast path's input hash skips styles/"),
    Mutation("fast-path-ignores-outputs", P + "build.py",
             "last.get(\"outputs\") != _output_listing(output)", "False",
             T("test_engine", "test_a_changed_output_file_is_rebuilt"),
             "the fast path trusts output/ without listing it"),
    Mutation("keys-ignore-stylesheets", P + "cache.py",
             "        if sheet:\n            found.add(sheet)", "        if sheet:\n            pass",
             T("test_selection", "test_keys_cover_what_a_job_reads_and_no_more"),
             "job keys ignore the stylesheets a job links"),
    Mutation("keys-ignore-linked-files", P + "cache.py",
             "        if path.is_relative_to(content):\n            found.add(", "        if False:\n            found.add(",
             T("test_guards", "test_a_logo_edit_rebuilds_the_files_that_show_it"),
             "job keys ignore the logos and images a job links"),
    Mutation("keys-ignore-profile", P + "cache.py",
             "            h.update(self.press.encode())", "            pass",
             T("test_guards", "test_a_new_cmyk_profile_rebuilds_the_press_files_only"),
             "press job keys ignore the CMYK profile"),
    Mutation("keys-ignore-page-plan", P + "cache.py",
             "            h.update(self.page_plan.encode())\n"
             "            h.update(json.dumps(self.project.page_plan(job.lang)[:2]).encode())",
             "            pass",
             T("test_guards", "test_a_page_plan_edit_rebuilds_the_brochure"),
             "the brochure's key ignores the page plan"),
    Mutation("jinja-autoescape-off", P + "render.py", "autoescape=True,", "autoescape=False,",
             T("test_guards", "test_a_template_escapes_what_it_prints"),
             "Jinja autoescape=False"),
    stub("fonts-embedded", P + "finish.py", "def check_fonts_embedded(reader: PdfReader) -> list[str]:",
         T("test_guards", "test_a_font_without_its_program_is_not_embedded")),
    stub("press-boxes", P + "finish.py",
         "def check_press_boxes(reader: PdfReader, size_mm: tuple[float, float], bleed_mm: float) -> list[str]:",
         T("test_guards", "test_a_bleed_box_without_the_bleed_is_found")),
    stub("output-intent", P + "finish.py", "def check_output_intent(reader: PdfReader) -> list[str]:",
         T("test_guards", "test_a_press_file_without_its_output_intent_is_found")),
    stub("page-size", P + "finish.py",
         "def check_page_size(reader: PdfReader, size_mm: tuple[float, float]) -> list[str]:",
         T("test_guards", "test_a_page_of_the_wrong_size_is_found")),
    Mutation("poster-max-plus-2pt", P + "runner.py",
             'high = round(float(type_sizes["poster-max"].removesuffix("pt")) * scale * 2) / 2',
             'high = round(float(type_sizes["poster-max"].removesuffix("pt")) * scale * 2) / 2 + 2',
             T("test_guards", "test_posters_fit_at_the_largest_size_within_the_brand_maximum",
               "test_a_short_poster_is_set_at_the_brand_maximum_and_no_larger"),
             "the poster maximum raised by 2 pt"),
    Mutation("poster-2pt-too-small", P + "runner.py",
             "        self.fits[key] = fits_at\n",
             "        fits_at -= 2\n        best = attempt(fits_at)\n        self.fits[key] = fits_at\n",
             T("test_guards", "test_posters_fit_at_the_largest_size_within_the_brand_maximum",
               "test_a_short_poster_is_set_at_the_brand_maximum_and_no_larger"),
             "a poster set 2 pt smaller than the largest size that fits"),
    Mutation("strict-ignored", P + "build.py", "if strict and result.ok and result.warnings:", "if False:",
             T("test_selection", "test_strict_fails_a_cached_file_with_warnings_without_rendering_it"),
             "--strict ignored"),
    Mutation("temp-files-kept", P + "output.py",
             "                contained(self.path, name)\n                _unlink_regular(path)",
             "                contained(self.path, name)",
             T("test_faults", "test_leftover_temporary_files_are_cleaned_up"),
             "leftover temporary files never cleaned up"),
    Mutation("workers-outlive-parent", P + "build.py",
             "    close_inherited_lock()\n    _die_with_parent()", "    close_inherited_lock()",
             T("test_faults", "test_workers_die_with_the_build"),
             "workers not killed with the parent (no PR_SET_PDEATHSIG)"),
    Mutation("ctrl-c-keeps-workers", P + "build.py",
             "        if not finished:   # Ctrl-C, a kill or a write fault: stop now, not after the running renders\n"
             "            _kill_workers(pool)",
             "        if not finished:   # Ctrl-C, a kill or a write fault: stop now, not after the running renders\n"
             "            pass",
             T("test_faults", "test_ctrl_c_stops_at_once_shows_the_cursor_and_says_what_is_left"),
             "Ctrl-C waits for the running renders"),

    # ---- preflight checks -----------------------------------------------------------------------
    stub("page-count", P + "finish.py", "def check_page_count(reader: PdfReader, expected: int) -> list[str]:",
         T("test_guards", "test_a_wrong_page_count_is_found")),
    stub("screen-basics", P + "finish.py", "def check_screen_basics(reader: PdfReader, lang: str) -> list[str]:",
         T("test_guards", "test_an_untagged_screen_file_without_language_or_title_is_found")),
    stub("no-rgb", P + "finish.py", "def check_no_rgb(reader: PdfReader) -> list[str]:",
         T("test_preflight", "test_rgb_colour_in_the_print_stylesheet_fails_the_print_build")),
    stub("brand-fonts-only", P + "finish.py",
         "def check_font_families(reader: PdfReader, families: list[str]) -> list[str]:",
         T("test_guards", "test_a_font_outside_the_brand_is_found")),
    stub("notdef", P + "finish.py", "def check_notdef(reader: PdfReader, locate=None) -> list[str]:",
         T("test_preflight", "test_fallback_font_in_a_pdf_is_reported")),
    stub("image-resolution", P + "finish.py", "def check_image_resolution(pdf: bytes, minimum_ppi: int) -> list[str]:",
         T("test_preflight", "test_low_resolution_image_fails_the_print_build")),
    stub("bleed", P + "press.py", "def check_bleed(pdf: bytes, bleed_mm: float, dpi: int = 100) -> list[str]:",
         T("test_press", "test_a_header_band_that_stops_at_the_trim_fails_the_build")),
    stub("black-text", P + "press.py", "def check_black_text(reader) -> list[str]:",
         T("test_press", "test_small_text_in_several_inks_fails_the_build")
         + T("test_guards", "test_black_text_that_is_not_100_k_or_does_not_overprint_is_found")),
    Mutation("black-text-knockout", P + "press.py",
             "elif (c, m, y, k) == (0, 0, 0, 1) and not run.overprint:", "elif False:",
             T("test_guards", "test_black_text_that_is_not_100_k_or_does_not_overprint_is_found"),
             "black text that knocks out passes"),
    stub("text-object-per-box", P + "press.py", "def _text_object_per_box(stream) -> bool:",
         T("test_press", "test_each_text_box_of_a_press_file_is_a_text_object_of_its_own_and_looks_the_same"),
         "False", "press files keep WeasyPrint's joined text objects (pypdf reads their Arabic out of order)"),
    stub("reversed-text", P + "press.py",
         "def check_reversed_text(reader, min_pt: float, bold_below_pt: float) -> list[str]:",
         T("test_guards", "test_thin_or_small_reversed_text_is_found")),
    stub("annotations", P + "press.py", "def check_no_annotations(reader) -> list[str]:",
         T("test_guards", "test_an_annotation_in_a_press_file_is_found")),
    stub("intent-condition", P + "press.py", "def check_output_intent_condition(reader, condition: str) -> list[str]:",
         T("test_press", "test_a_shop_profile_for_another_condition_needs_its_identifier")
         + T("test_guards", "test_an_output_intent_for_another_condition_is_found")),
    stub("colour-space-leftovers", P + "press.py", "def check_colour_space_leftovers(reader) -> list[str]:",
         T("test_guards", "test_unused_colour_spaces_and_transparency_groups_are_found")),
    stub("min-text-size", P + "press.py",
         '    Text whose baseline lies less than `below_y` points above the trim\'s bottom\n'
         '    (a footer) is held to `below_minimum` instead.\n    """',
         T("test_press", "test_text_under_the_minimum_fails_with_page_size_and_words")),
    stub("overlap", P + "overlap.py", "def overlaps(document, limit: int = 5) -> list[str]:",
         T("test_blocks", "test_text_over_a_decorative_shape_fails_the_build",
           "test_text_over_a_rule_or_other_text_fails_the_build")),
    stub("leaflet-fill", P + "runner.py", "    def check_leaflet_balance(self, product: dict, rendered, lang: str = \"da\") -> list[str]:",
         T("test_screen_quality", "test_half_empty_inside_page_fails_the_leaflet")),
    stub("leaflet-fit", P + "runner.py", "    def check_leaflet_fit(self, product: dict, rendered, lang: str = \"da\") -> list[str]:",
         T("test_leaflets", "test_overlong_parent_text_fails_naming_the_yaml_key")),
    stub("poster-footer", P + "runner.py", "    def check_poster_footer(self, rendered) -> list[str]:",
         T("test_screen_quality", "test_poster_text_running_under_the_footer_fails")),
    stub("page-plan-preflight", P + "runner.py", "    def check_page_plan(self, anchors: dict[str, int], lang: str = \"da\") -> list[str]:",
         T("test_build", "test_overflowing_section_fails_and_keeps_the_earlier_pdf")),

    stub("print-preferences", P + "impose.py", "def check_print_preferences(reader: PdfReader, kind: str) -> list[str]:",
         T("test_guards", "test_a_booklet_without_its_print_preferences_is_found")),

    # ---- validator rules (content/ → file:line: key: message) -----------------------------------
    stub("contrast", P + "validate.py", "def _contrast(project: Project) -> list[Problem]:",
         T("test_typography", "test_a_pair_under_wcag_aa_fails_check_with_its_roles_and_colours")),
    Mutation("stale-never-found", P + "translations.py", 'if str(entry.get("source")) != text.fingerprint:',
             "if False:", T("test_languages", "test_approved_file_has_no_watermark_and_turns_stale_after_a_danish_edit"),
             "an entry whose Danish changed stays approved"),
    Mutation("missing-falls-back", P + "translations.py", "            loc.missing.add(ident)", "            pass",
             T("test_languages", "test_a_missing_entry_fails_that_product_only"),
             "a missing translation silently keeps the Danish text"),
    Mutation("lix", P + "validate.py", "if score > leaflet[\"max_lix\"]:\n                out.append(src.problem(",
             "if False:\n                out.append(src.problem(",
             T("test_guards", "test_validator_rules_name_file_line_and_key"), "LIX above the limit passes"),
    Mutation("unknown-quote-id", P + "validate.py", 'if "quote" in block and block["quote"] not in leads:',
             "if False:", T("test_guards", "test_validator_rules_name_file_line_and_key"),
             "an unknown quote id passes"),
    Mutation("unknown-list-id", P + "validate.py", 'if "list" in block and block["list"] not in lists:',
             "if False:", T("test_guards", "test_validator_rules_name_file_line_and_key"),
             "an unknown list id passes"),
    Mutation("unknown-item-id", P + "validate.py",
             "        for ii, item in enumerate(block.get(\"items\", [])):\n            if item not in items:",
             "        for ii, item in enumerate(block.get(\"items\", [])):\n            if False:",
             T("test_guards", "test_validator_rules_name_file_line_and_key"), "an unknown item id passes"),
    Mutation("duplicate-poster-id", P + "validate.py", "        if poster[\"id\"] in seen:", "        if False:",
             T("test_guards", "test_validator_rules_name_file_line_and_key"), "a duplicate poster id passes"),
    Mutation("duplicate-institution-id", P + "validate.py", "        if inst[\"id\"] in seen:", "        if False:",
             T("test_guards", "test_validator_rules_name_file_line_and_key"), "a duplicate institution id passes"),
    Mutation("duplicate-policy-id", P + "validate.py", "            if ident in seen:", "            if False:",
             T("test_content_errors", "test_duplicate_commitment_id"), "a duplicate policy id passes"),
    Mutation("icc-missing", P + "validate.py", "    if not found:\n        hint =", "    if False:\n        hint =",
             T("test_guards", "test_validator_rules_name_file_line_and_key"), "a missing ICC profile passes"),
    Mutation("icc-not-cmyk", P + "validate.py", 'if header[16:20] != b"CMYK":', "if False:",
             T("test_guards", "test_validator_rules_name_file_line_and_key"), "an RGB ICC profile passes"),
    Mutation("template-missing", P + "validate.py", "            if not (project.root / folder / product[key]).is_file():",
             "            if False:", T("test_guards", "test_validator_rules_name_file_line_and_key"),
             "a missing template passes"),
    Mutation("age-band-order", P + "validate.py", "if band[\"from\"] >= band[\"to\"]:", "if False:",
             T("test_guards", "test_validator_rules_name_file_line_and_key"), "an age band ending before it starts passes"),
    Mutation("page-plan-order", P + "validate.py", "if page <= last or page >= pages:", "if False:",
             T("test_guards", "test_validator_rules_name_file_line_and_key"), "a page plan out of order passes"),

    Mutation("hyphenation-exceptions", P + "validate.py", 'if marked.replace("|", "") != word:', "if False:",
             T("test_guards", "test_validator_rules_name_file_line_and_key"),
             "a hyphenation exception that spells another word passes"),
    stub("colour-roles", P + "validate.py", "def _colour_roles(project: Project) -> list[Problem]:",
         T("test_content_errors", "test_unknown_colour_role_in_a_stylesheet")),
    stub("type-sizes", P + "validate.py", "def _type_sizes(project: Project) -> list[Problem]:",
         T("test_press", "test_a_missing_type_minimum_is_a_content_error")),
    stub("institution-products", P + "validate.py", "def _institution_products(project: Project) -> list[Problem]:",
         T("test_institutions", "test_an_unknown_product_for_an_institution_is_named")),
    stub("glyphs", P + "validate.py", "def _glyphs(project: Project) -> list[Problem]:",
         T("test_preflight", "test_missing_glyph_is_a_content_error_with_file_and_line")),
    Mutation("string-placeholders", P + "validate.py", "                if name not in allowed:",
             "                if False:", T("test_security", "test_strings_take_only_their_named_placeholders"),
             "a fixed word may use any placeholder"),

    # ---- output/ safety -------------------------------------------------------------------------
    Mutation("output-containment", P + "output.py",
             "    if os.path.commonpath([real_base, target]) != real_base or target == real_base:",
             "    if False:",
             T("test_security_output", "test_a_folder_inside_output_that_links_out_is_never_written_through",
               "test_containment_resolves_links_on_the_way")
             + T("test_guards", "test_any_path_is_refused_or_lands_inside_output"),
             "a path that resolves outside output/ is written"),
    stub("foreign-files", P + "output.py", "    def refuse_foreign(self) -> None:",
         T("test_security_output", "test_an_output_holding_files_the_tool_did_not_write_is_refused"),
         value="None"),
    Mutation("no-build-lock", P + "build.py", "with build_lock(output, timeout=lock_timeout, on_wait=on_wait):",
             "if True:", T("test_engine", "test_a_second_build_waits_for_the_lock_or_fails_clearly"),
             "a second build does not wait for the lock on output/"),
    Mutation("symlinked-output", P + "output.py", "    if stat.S_ISLNK(mode):\n", "    if False:\n",
             T("test_security_output", "test_a_symlinked_output_is_refused_and_loses_nothing"),
             "an output/ that is a symbolic link is written through"),
    Mutation("asset-outside-content", P + "assets.py", "    if not lexical.is_relative_to(content):",
             "    if False:", T("test_safety", "test_a_logo_outside_the_project_is_refused"),
             "an asset path that leaves content/ by .. is followed"),
    Mutation("svg-any-element", P + "assets.py", "        if local not in ELEMENTS:", "        if False:",
             T("test_security_assets", "test_unsafe_svg_logos_fail_check"),
             "an SVG logo may hold any SVG element (script, foreignObject, …)"),
    Mutation("svg-event-handlers", P + "assets.py", 'if local.lower().startswith("on"):', "if False:",
             T("test_security_assets", "test_unsafe_svg_logos_fail_check"),
             "an SVG logo may carry event handlers (onload=…)"),
    Mutation("document-id-unpinned", P + "finish.py", "def pin_document_id(pdf: bytes) -> bytes:",
             "def pin_document_id(pdf: bytes) -> bytes:\n    return pdf",
             T("test_print", "test_document_id_is_pinned_and_rebuilds_are_identical"),
             "the press files' document id is left as WeasyPrint made it"),
    Mutation("rtl-space-in-text", P + "render.py", "out.append(html(before[:-1]) + _RTL_SPACE)",
             "out.append(html(before))",
             T("test_languages", "test_arabic_typesetter_boxes_runs_and_keeps_particles_with_their_word"),
             "the space before a box in Arabic text ends the text box before it (pypdf moves it)"),
    Mutation("kerning-gaps-kept", P + "fonts.py", 'least = share * font["hmtx"]["space"][0]',
             'least = 10 * font["hmtx"]["space"][0]',
             T("test_languages", "test_arabic_kerning_gaps_are_glyph_advances_and_the_text_is_shaped_as_before"),
             "the Arabic font copy keeps its wide kerning gaps (pypdf reads them as word gaps)"),

    # ---- the catalogue and the web edition (tests in a real browser) ----------------------------
    Mutation("web-danish-typesetter", P + "web.py", "        with renderer.speaking(lang):",
             '        with renderer.speaking("da"):',
             T("test_web_edition", "test_a_translated_page_has_its_own_words_dates_and_quotes"),
             "a translated web page is set with the Danish typesetter (»quotes«)"),
    Mutation("thumbnail-no-alt", "templates/web/catalogue.html.j2",
             '<img src="{{ base }}{{ item.thumb }}" alt="" width="160">',
             '<img src="{{ base }}{{ item.thumb }}" width="160">',
             T("test_catalogue", "test_axe_finds_no_violations_and_nothing_is_blocked"),
             "the catalogue's thumbnails have no alt (an axe-core violation)"),
    Mutation("web-skip-link-left", "styles/web.css", ".skip { position: absolute; inset-inline-start: .5rem;",
             ".skip { position: absolute; left: .5rem;",
             T("test_catalogue", "test_arabic_pages_are_laid_out_right_to_left"),
             "the skip link is placed by a physical property (on the left of an Arabic page)"),
    Mutation("filters-not-in-place", "templates/web/catalogue.js", "        group.hidden = !match;",
             "        group.hidden = false;",
             T("test_catalogue", "test_filters_work_in_place_with_javascript"),
             "catalogue.js hides no language group"),
]


# ---- running ------------------------------------------------------------------------------------

def make_copy(dest: Path, source: Path = ROOT) -> Path:
    """A copy of the checkout's code, tests and inputs at `dest`, with .venv and .cache linked."""
    for name in COPIED:
        src = source / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif src.is_file():
            shutil.copy2(src, dest / name)
    (dest / ".venv").symlink_to(ROOT / ".venv")
    if (ROOT / "node_modules").is_dir():   # axe-core, for the tests in a real browser (tests/browser.py)
        (dest / "node_modules").symlink_to(ROOT / "node_modules")
    # .cache: the profile and the font instances are linked, but each copy writes its own
    # fonts.conf (policyprint/fonts.py names the copy's own paths in it): one shared file,
    # rewritten by each copy in turn, would point the others at folders already deleted.
    (dest / ".cache/fonts").mkdir(parents=True)
    (dest / ".cache/icc").symlink_to(ROOT / ".cache/icc")
    for entry in (ROOT / ".cache/fonts").iterdir():
        if entry.is_dir() and entry.name != "fontconfig":
            (dest / ".cache/fonts" / entry.name).symlink_to(entry)
    return dest


def apply(mutation: Mutation, copy: Path) -> None:
    path = copy / mutation.file
    text = path.read_text(encoding="utf-8")
    count = text.count(mutation.anchor)
    if count != 1:
        raise AnchorError(f"mutation {mutation.name}: anchor not found in {mutation.file}" if count == 0 else
                          f"mutation {mutation.name}: anchor found {count} times in {mutation.file}")
    mutated = text.replace(mutation.anchor, mutation.replacement)
    # A mutation must change behaviour, not break the module: a SyntaxError would fail every test
    # that imports it, and count as caught without proving anything. (Python only: a template,
    # stylesheet or script row changes one attribute or value, and its tests say what it broke.)
    if path.suffix == ".py":
        compile(mutated, str(path), "exec")
    path.write_text(mutated, encoding="utf-8")


class AnchorError(Exception):
    pass


def env_for(copy: Path) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(copy) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.pop("POLICYPRINT_REEXEC", None)
    return env


def pytest(copy: Path, tests: list[str]) -> subprocess.CompletedProcess:
    cmd = [str(copy / ".venv/bin/python"), "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
           f"--basetemp={copy / '.pytest-tmp'}", *tests]
    try:
        return subprocess.run(cmd, cwd=copy, env=env_for(copy), capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        return subprocess.CompletedProcess(cmd, -1, exc.stdout or "", f"timed out after {TIMEOUT_S} s")


def check_under_test(copy: Path) -> None:
    """The copy's policyprint is the one the tests and their subprocesses import."""
    probe = "import policyprint, policyprint.cli; print(policyprint.__file__)"
    out = subprocess.run([str(copy / ".venv/bin/python"), "-c", probe], cwd=copy, env=env_for(copy),
                         capture_output=True, text=True, check=True).stdout.strip()
    if not Path(out).resolve().is_relative_to(copy.resolve()):
        sys.exit(f"error: the copy's tests would import {out}, not the copy in {copy}")


def run_one(snapshot: Path, mutation: Mutation | None, tests: list[str], keep: bool) -> tuple[str, float, str]:
    """(verdict, seconds, detail). mutation None: the baseline, on the unmutated copy."""
    start = time.monotonic()
    copy = make_copy(Path(tempfile.mkdtemp(prefix=f"mutate-{mutation.name if mutation else 'baseline'}-")),
                     snapshot)
    try:
        if mutation:
            apply(mutation, copy)
        result = pytest(copy, tests)
        log = LOGS / f"{mutation.name if mutation else 'baseline'}.log"
        log.write_text(f"$ {' '.join(result.args)}\n{result.stdout}\n{result.stderr}", encoding="utf-8")
        tail = (result.stdout.strip().splitlines() or [result.stderr.strip()])[-1]
        if mutation is None:
            verdict = "passes" if result.returncode == 0 else "FAILS"
            detail = f"{tail}\n(the whole output: {log})" if result.returncode else ""
        elif result.returncode == 1:
            verdict, detail = "caught", ""
        elif result.returncode == 0:
            verdict, detail = "NOT CAUGHT", f"{tail}\n(the whole output: {log})"
        else:   # collection error, no tests collected, a crash, a timeout: never counted as caught
            verdict, detail = "ERROR", f"exit {result.returncode}: {tail}\n(the whole output: {log})"
    except AnchorError as exc:
        verdict, detail = "NO ANCHOR", str(exc)
    except SyntaxError as exc:
        verdict, detail = "BROKEN", f"mutation {mutation.name}: the patched {mutation.file} does not compile: {exc}"
    finally:
        if not keep:
            shutil.rmtree(copy, ignore_errors=True)
    return verdict, time.monotonic() - start, detail


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="run only these mutations")
    parser.add_argument("--jobs", type=int, default=2, help="mutations run side by side (at most 2)")
    parser.add_argument("--no-baseline", action="store_true", help="skip running the tests on the unmutated copy")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copies (for debugging)")
    parser.add_argument("--list", action="store_true", help="print the mutations and their tests, run nothing")
    parser.add_argument("--baseline-only", action="store_true", help="only run the tests on the unmutated copy")
    args = parser.parse_args()
    names = {m.name for m in MUTATIONS}
    if unknown := [n for n in args.names if n not in names]:
        parser.error(f"unknown mutation(s): {', '.join(unknown)}")
    chosen = [m for m in MUTATIONS if not args.names or m.name in args.names]
    if args.list:
        for m in chosen:
            print(f"{m.name}: {m.what}\n    {m.file}\n    " + "\n    ".join(m.tests))
        return 0
    # Every anchor first: a moved source fails the run before anything slow starts.
    missing = []
    for m in chosen:
        count = (ROOT / m.file).read_text(encoding="utf-8").count(m.anchor)
        if count != 1:
            missing.append(f"mutation {m.name}: anchor not found in {m.file}" if not count
                           else f"mutation {m.name}: anchor found {count} times in {m.file}")
    if missing:
        print("\n".join(missing), file=sys.stderr)
        return 1
    # One snapshot of the tree, taken now: edits made while the run goes on do not mix into it.
    snapshot = make_copy(Path(tempfile.mkdtemp(prefix="mutate-snapshot-")))
    try:
        check_under_test(snapshot)
        return run_all(args, chosen, snapshot)
    finally:
        shutil.rmtree(snapshot, ignore_errors=True)


def run_all(args, chosen: list[Mutation], snapshot: Path) -> int:
    started = time.monotonic()
    shutil.rmtree(LOGS, ignore_errors=True)
    LOGS.mkdir(parents=True)
    jobs = max(1, min(args.jobs, 2))
    baseline_tests = sorted({t for m in chosen for t in m.tests})
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        baseline = None if args.no_baseline else pool.submit(run_one, snapshot, None, baseline_tests, args.keep)
        futures = [] if args.baseline_only else [(m, pool.submit(run_one, snapshot, m, m.tests, args.keep))
                                                 for m in chosen]
        rows = []
        for m, future in futures:
            verdict, seconds, detail = future.result()
            rows.append((m, verdict, seconds, detail))
            print(f"  {m.name}: {verdict} ({seconds:.0f} s)", file=sys.stderr, flush=True)
        base = baseline.result() if baseline else None

    if args.baseline_only:
        print(f"baseline (the {len(baseline_tests)} tests on the unmutated copy): {base[0]} ({base[1]:.0f} s)"
              + (f"\n{base[2]}" if base[2] else ""))
        return 0 if base[0] == "passes" else 1
    width = max(len(m.name) for m in chosen)
    print(f"\n{'mutation':<{width}} | tests | result")
    print(f"{'-' * width}-|-------|-------")
    for m, verdict, seconds, detail in rows:
        tests = ", ".join(t.split("::")[-1] for t in m.tests)
        print(f"{m.name:<{width}} | {tests} | {verdict}")
    bad = [(m, v, d) for m, v, _, d in rows if v != "caught"]
    for m, verdict, detail in bad:
        print(f"\n{m.name} ({m.what}): {verdict}\n{detail}", file=sys.stderr)
    if base:
        print(f"\nbaseline (the {len(baseline_tests)} tests on the unmutated copy): {base[0]} ({base[1]:.0f} s)")
        if base[0] != "passes":
            print(base[2], file=sys.stderr)
    caught = sum(v == "caught" for _, v, _, _ in rows)
    print(f"{caught} of {len(rows)} mutations caught in {time.monotonic() - started:.0f} s "
          f"({jobs} at a time)")
    return 0 if not bad and (base is None or base[0] == "passes") else 1


if __name__ == "__main__":
    sys.exit(main())
