"""The HTML report: self-contained, labelled, complete for one subject and for a cohort, and it opens in a
real headless browser (Debian's chromium) with no console error and every image shown."""

from __future__ import annotations

import _socket
import re
import shutil
import socket
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fmmi_neuro.report import report


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images: list[str] = []
        self.links: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        if tag in ("link", "a") and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag == "script":
            self.scripts += 1


def _parse(path: Path) -> _Collect:
    parser = _Collect()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def _svg_text(path: Path) -> str:
    return " ".join(" ".join(re.findall(r">([^<>]+)</text>", path.read_text(encoding="utf-8"))).split())


@pytest.fixture(scope="module")
def single_report(hcp, aal2, tmp_path_factory):
    from fmmi_neuro.stats.nulls import surrogate_test

    subject = hcp.subjects[0]
    data = hcp.load(subject)
    groups = np.array(hcp.groups(94, {3: 120}, seed=2))
    table = surrogate_test(
        data.to_numpy(), groups, n_surrogates=49, unit="bits", seed=0, region_names=aal2.region_names
    )
    out = tmp_path_factory.mktemp("single")
    path = report(
        table,
        out,
        coordinates=aal2.coordinates,
        region_names=aal2.region_names,
        networks=aal2.families,
        labels_img=aal2.labels_img,
        label_values=aal2.label_values,
        atlas="AAL2",
        data_description=f"HCP sub-{subject} REST1_LR, detrended",
        provenance={"network labels": "AAL2 anatomical families (name prefix)"},
        top=5,
        maps=("glass", "slices"),
    )
    return path, table


@pytest.fixture(scope="module")
def cohort_report(hcp, aal2, tmp_path_factory):
    from fmmi_neuro.scoring.score import score_groups
    from fmmi_neuro.stats.group_level import group_statistics

    groups = hcp.groups(94, {3: 60, 4: 30}, seed=3)
    tables = []
    for i, subject in enumerate(hcp.subjects):
        t = score_groups(hcp.load(subject), groups=groups, estimator="gaussian_copula", unit="bits")
        tables.append(t.assign(subject=subject, half="first" if i < 4 else "second"))
    subject_table = pd.concat(tables, ignore_index=True)
    subject_table.attrs = dict(tables[0].attrs)
    stats = group_statistics(subject_table, test="two_group", by="half")
    out = tmp_path_factory.mktemp("cohort")
    path = report(
        subject_table,
        out,
        coordinates=aal2.coordinates,
        region_names=aal2.region_names,
        group_stats=stats,
        atlas="AAL2",
        top=5,
        formats=("png",),
    )
    return path, stats


@pytest.fixture(scope="module")
def schaefer_report(shared_data, tmp_path_factory):
    """A second atlas, given as an ``fmmi_neuro.io`` Atlas: Schaefer-100 (7 Yeo networks), BrainFC rest01."""
    from scipy.signal import detrend

    from fmmi_neuro.io.atlases import load_atlas
    from fmmi_neuro.scoring.two_stage import two_stage_score
    from fmmi_neuro.stats.nulls import surrogate_test

    atlas = load_atlas("schaefer_2018", data_dir=shared_data / "nilearn_data", n_rois=100)
    raw = pd.read_csv(shared_data / "brainfc_rest01" / "timeseries.tsv", sep="\t").to_numpy(dtype=float)
    data = detrend(raw, axis=0)
    rng = np.random.default_rng(4)
    groups = np.sort(np.array([rng.choice(100, 3, replace=False) for _ in range(80)]), axis=1)
    groups = np.unique(groups, axis=0)
    table = surrogate_test(
        data, groups, n_surrogates=49, unit="bits", seed=0, region_names=atlas.region_names
    )
    refined = two_stage_score(data, groups, top_k=10, n_control=10, refine="gaussian_copula", unit="bits")
    out = tmp_path_factory.mktemp("schaefer")
    path = report(table, out, atlas=atlas, refined=refined, top=5, maps=("slices",), formats=("png",))
    return path, atlas


def test_report_from_an_atlas_object(schaefer_report):
    path, atlas = schaefer_report
    text = path.read_text(encoding="utf-8")
    keys = {p.stem for p in (path.parent / "figures").glob("*.png")}
    assert {"network_matrix", "region_mean_slices", "estimator_agreement", "surrogate_test"} <= keys
    assert "schaefer_2018" in text and atlas.space in text
    # the atlas' Yeo networks reach the region table
    assert all(f"<td>{net}</td>" in text for net in set(atlas.networks))


def test_single_subject_report_is_self_contained_and_labelled(single_report):
    path, table = single_report
    text = path.read_text(encoding="utf-8")
    parsed = _parse(path)
    assert parsed.scripts == 0 and not parsed.links
    assert not re.search(r"(src|href)\s*=\s*['\"]?(https?:|//)|url\(\s*['\"]?https?:", text)
    assert all(src.startswith("data:image/png;base64,") for src in parsed.images)
    keys = {p.stem for p in (path.parent / "figures").glob("*.png")}
    assert keys == {
        "landscape",
        "synergy_fraction",
        "region_mean_markers",
        "region_mean_slices",
        "region_rank",
        "region_rank_markers",
        "top_groups",
        "network_matrix",
        "network_enrichment",
        "surrogate_test",
    }
    assert len(parsed.images) == len(keys) == len(list((path.parent / "figures").glob("*.svg")))
    for needle in (
        "Ω = TC − DTC",
        "redundancy",
        "synergy",
        "bits",
        "AAL2",
        "time_shift (49 surrogates)",
        "HCP sub-",
        "numpy",
    ):
        assert needle in text
    assert "Figure not drawn" not in text
    # the most synergistic group is listed by its region names
    best = table.nsmallest(1, "o_info").iloc[0]
    assert " · ".join(best["region_names"]) in text
    # every saved figure names the sign convention and the atlas; information figures name the unit
    for svg in (path.parent / "figures").glob("*.svg"):
        words = _svg_text(svg)
        assert "Ω" in words and ("redundancy" in words and "synergy" in words), svg.name
        assert "atlas: AAL2" in words, svg.name
        if svg.stem not in ("synergy_fraction", "region_rank", "region_rank_markers", "network_enrichment"):
            assert "[bits]" in words, svg.name


def test_cohort_report_shows_the_contrast(cohort_report):
    path, stats = cohort_report
    text = path.read_text(encoding="utf-8")
    assert (path.parent / "figures" / "contrast.png").is_file()
    assert "mean over 7 subjects" in text and "Group-level test" in text
    strongest = stats.loc[stats["estimate"].abs().idxmax()]
    assert " · ".join(strongest["region_names"]) in text


def test_report_refuses_an_empty_table(tmp_path):
    empty = pd.DataFrame({"size": [], "o_info": [], "unit": []})
    with pytest.raises(ValueError, match="no rows"):
        report(empty, tmp_path)
    all_nan = pd.DataFrame({"size": [3, 3], "o_info": [np.nan, np.nan], "unit": ["bits", "bits"]})
    with pytest.raises(ValueError, match="no finite value"):
        report(all_nan, tmp_path)


def _browser_paths() -> tuple[str, str]:
    browser = next((p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None)
    driver = shutil.which("chromedriver")
    if browser is None or driver is None:
        pytest.skip("chromium / chromedriver are not installed (apt-get install chromium chromium-driver)")
    return browser, driver


@pytest.fixture
def loopback_only(monkeypatch):
    """Selenium talks to chromedriver over 127.0.0.1: allow loopback, keep refusing everything else."""

    def connect(sock, address):
        host = address[0] if isinstance(address, tuple) else address
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise OSError("network access is disabled in tests")
        return _socket.socket.connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)


def test_reports_open_in_headless_chromium(
    single_report, cohort_report, schaefer_report, loopback_only, tmp_path
):
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    browser, driver_path = _browser_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        for path, _ in (single_report, cohort_report, schaefer_report):
            driver.get(path.resolve().as_uri())
            state = driver.execute_script(
                "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight])"
            )
            assert len(state) == len(list((path.parent / "figures").glob("*.png")))
            assert all(done and width > 0 and height > 0 for done, width, height in state), state
            errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
            assert not errors, errors
            assert driver.title.startswith("fmmi_neuro report")
    finally:
        driver.quit()


def test_report_from_a_bare_score_table(subject_scores, tmp_path):
    """No atlas at all: distributions and rankings only, names from the table; an undrawable figure
    becomes a note (and a warning), not a crash."""
    with pytest.warns(UserWarning, match="'estimator_agreement' skipped"):
        path = report(subject_scores, tmp_path, refined=subject_scores.head(2), formats=("png",))
    keys = {p.stem for p in (tmp_path / "figures").glob("*.png")}
    assert keys == {"landscape", "synergy_fraction", "region_rank"}
    text = path.read_text(encoding="utf-8")
    assert "Figure not drawn — Agreement: gaussian_copula vs gaussian_copula: only 2 group(s)" in text
    assert " · ".join(subject_scores.nsmallest(1, "o_info")["region_names"].iloc[0]) in text
    assert "atlas: not named" in text.lower()


def _provenance(path: Path) -> dict[str, str]:
    page = path.read_text(encoding="utf-8")
    section = page.split("<h2>Provenance</h2>", 1)[1].split("</table>", 1)[0]
    return dict(re.findall(r"<tr><th>([^<]*)</th><td>([^<]*)</td></tr>", section))


def test_region_count_and_group_counts_are_the_data_s(tmp_path):
    """'regions' was the largest tested index + 1 and 'groups scored' the tested count."""
    from fmmi_neuro.stats.nulls import surrogate_test

    rng = np.random.default_rng(3)
    data = rng.standard_normal((300, 12))
    data[:, 1] += data[:, 0]
    tested = surrogate_test(data, np.array([[0, 1, 2], [3, 4, 5], [2, 6, 8]]), n_surrogates=19)
    info = _provenance(report(tested, tmp_path, formats=("png",), maps=()))
    assert info["regions"] == "12"  # not 9
    assert info["groups tested against surrogates"] == "3" and "groups scored" not in info
    undocumented = tested.copy()
    undocumented.attrs = {"unit": "nats"}
    info = _provenance(report(undocumented, tmp_path / "bare", formats=("png",), maps=()))
    assert info["regions"].startswith("at least 9 (largest region index + 1")


def test_an_atlas_with_more_labels_is_matched_to_the_data_by_name(hcp, shared_data, tmp_path):
    """AAL2 has 120 labels; the HCP tables keep 94: the report said 120 regions."""
    from fmmi_neuro.io import load_atlas
    from fmmi_neuro.scoring.score import score_groups

    folder = shared_data / "atlases" / "aal2"
    atlas = load_atlas(folder / "aal2_2mm.nii.gz", labels=folder / "aal2_labels.csv")
    assert len(atlas.region_names) == 120
    data = hcp.load(hcp.subjects[0])
    scores = score_groups(data, groups=[(0, 1, 2), (10, 50, 93)], estimator="gaussian_copula")
    assert scores.attrs["region_names"] == list(data.columns)  # score tables name every region
    unnamed = scores.copy()
    unnamed.attrs = {k: v for k, v in scores.attrs.items() if k != "region_names"}
    with pytest.warns(UserWarning, match="the scored data 94, and the table names only the 6 regions"):
        path = report(unnamed, tmp_path, atlas=atlas, formats=("png",), maps=("glass",))
    assert _provenance(path)["regions"] == "94"
    path = report(scores, tmp_path / "named", atlas=atlas, formats=("png",), maps=("glass",))
    assert _provenance(path)["regions"] == "94" and "region_mean_markers" in path.read_text()
    renamed = data.rename(columns={data.columns[5]: "Not_In_AAL2"})
    with pytest.raises(ValueError, match=r"lists 120 regions but the scores' regions \['Not_In_AAL2'\]"):
        report(score_groups(renamed, groups=[(0, 1, 5)], estimator="gaussian_copula"), tmp_path, atlas=atlas)


def test_the_report_states_the_smallest_attainable_q_when_it_exceeds_alpha(tmp_path):
    from _cohorts import planted_subject

    from fmmi_neuro.stats.nulls import surrogate_test

    data = planted_subject(np.random.default_rng(4), 300, 30, planted=True)
    groups = np.array([[0, 1, 2], [3, 4, 5], *(np.arange(6, 30).reshape(-1, 3))])
    few = surrogate_test(data, groups, n_surrogates=9)
    page = report(few, tmp_path / "few", formats=("png",), maps=()).read_text(encoding="utf-8")
    assert "No group can reach FDR q &lt; 0.05 here" in page
    assert "the smallest possible p-value is 0.2 (two-sided); over 10 tests" in page
    many = surrogate_test(data, groups, n_surrogates=999)
    page = report(many, tmp_path / "many", formats=("png",), maps=()).read_text(encoding="utf-8")
    assert "No group can reach" not in page


def test_rows_without_an_estimate_are_listed_not_reported_as_numbers(tmp_path):
    from fmmi_neuro.scoring.frames import group_terms
    from fmmi_neuro.stats.nulls import surrogate_test

    def kernel(data, groups):
        terms = group_terms(data, groups, estimator="gaussian_copula")
        terms["o_info"][1] = np.inf
        return terms

    data = np.random.default_rng(5).standard_normal((300, 9))
    with pytest.warns(RuntimeWarning, match="no finite estimate"):
        table = surrogate_test(
            data, np.arange(9).reshape(3, 3), method="phase", n_surrogates=9, estimator=kernel
        )
    page = report(table, tmp_path, formats=("png",), maps=()).read_text(encoding="utf-8")
    left_out = page.split("<h2>Left out and caveats</h2>", 1)[1]
    assert "1 group(s) have no usable estimate or null (3-4-5)" in left_out
    assert "inf" not in page.split("<h2>Top", 1)[1].split("</table>", 1)[0]


def test_cohort_report_lists_the_left_out_estimates_and_subjects(tmp_path):
    from _cohorts import planted_subject

    from fmmi_neuro.scoring.frames import group_terms
    from fmmi_neuro.stats.cohort import score_cohort
    from fmmi_neuro.stats.group_level import group_statistics

    rng = np.random.default_rng(6)
    cohort = {f"{i:02d}": planted_subject(rng, 300 if i != 3 else 250, 9, planted=True) for i in range(6)}

    def kernel(data, groups):
        terms = group_terms(data, groups, estimator="gaussian_copula")
        if data.shape[0] == 250:
            terms["o_info"][0] = np.nan
        return terms

    groups = np.arange(9).reshape(3, 3)
    with pytest.warns(RuntimeWarning):
        subjects = score_cohort(cohort, groups=groups, estimator=kernel, null=None, unit="bits")
    subjects.attrs["errors"] = {"07": "ValueError: its table could not be read"}
    with pytest.warns(UserWarning, match="left out"):
        stats = group_statistics(subjects, test="one_sample")
    page = report(subjects, tmp_path, group_stats=stats, formats=("png",), maps=()).read_text()
    assert "subject &#x27;03&#x27;: 1 group(s) nonfinite" in page.split("<h2>Left out and caveats</h2>", 1)[1]
    assert "<th>n_excluded</th>" in page
    failed = page.split("<h2>Subjects that failed</h2>", 1)[1]
    assert "07" in failed and "could not be read" in failed
