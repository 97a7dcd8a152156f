"""The formulas of change attribution against hand-computed decompositions.

Every expected number is worked out in the comment next to it from the inputs, not read from output.
"""

from __future__ import annotations

import math
import random

import pytest

from product_metrics.drivers.decompose import (
    RESIDUAL,
    Cell,
    DecompositionError,
    SegmentDriver,
    mix_rate_drivers,
    product_attribution,
    ratio_attribution,
    segment_drivers,
    sum_attribution,
)


def by_segment(drivers: list[SegmentDriver]) -> dict[tuple[tuple[str, str], ...], SegmentDriver]:
    return {driver.segment: driver for driver in drivers}


def country(value: str, before: float, after: float) -> Cell:
    return Cell({"country": value}, before, after)


def grid(before: float, after: dict[tuple[str, str], float]) -> list[Cell]:
    """Country × platform cells, each `before` in the from-period, `after[(country, platform)]` or `before`."""
    return [
        Cell({"country": c, "platform": p}, before, after.get((c, p), before))
        for c in ("BR", "IN", "US")
        for p in ("android", "ios", "web")
    ]


# ---------------------------------------------------------------------------------------------------
# Summable metrics: complement ratio, support, pruning, ranking
# ---------------------------------------------------------------------------------------------------


def test_complement_ratio_on_three_segments() -> None:
    # before: US 100, BR 50, IN 50 (population 200); after: US 110, BR 30, IN 60 (population 200).
    cells = [country("US", 100, 110), country("BR", 50, 30), country("IN", 50, 60)]
    drivers = segment_drivers(cells, ["country"])
    seg = by_segment(drivers)
    br = seg[(("country", "BR"),)]
    # BR: complement 150 -> 170, ratio 17/15; expected 50 × 17/15 = 170/3 = 56.667;
    # unexpected 30 - 170/3 = -80/3 = -26.667; relative -80/170 = -8/17; difference -20, relative -0.4.
    assert br.difference == -20
    assert br.relative_difference == pytest.approx(-0.4)
    assert br.expected_after == pytest.approx(56.666667, abs=1e-6)
    assert br.unexpected_difference == pytest.approx(-26.666667, abs=1e-6)
    assert br.relative_unexpected_difference == pytest.approx(-8 / 17)
    assert br.expected_basis == "complement"
    us = seg[(("country", "US"),)]
    # US: complement 100 -> 90, ratio 0.9; expected 90; unexpected +20; relative 20/90 = 2/9.
    assert us.expected_after == pytest.approx(90)
    assert us.unexpected_difference == pytest.approx(20)
    assert us.relative_unexpected_difference == pytest.approx(2 / 9)
    india = seg[(("country", "IN"),)]
    # IN: complement 150 -> 140, ratio 14/15; expected 140/3 = 46.667; unexpected 60 - 140/3 = 40/3.
    assert india.expected_after == pytest.approx(46.666667, abs=1e-6)
    assert india.unexpected_difference == pytest.approx(13.333333, abs=1e-6)
    assert india.relative_unexpected_difference == pytest.approx(2 / 7)
    # Ranked by abs(unexpected): BR 26.7, US 20, IN 13.3.
    assert [d.segment[0][1] for d in drivers] == ["BR", "US", "IN"]
    assert [d.rank for d in drivers] == [1, 2, 3]


def test_support_is_the_larger_share_of_the_two_periods_and_filters() -> None:
    cells = [country("US", 100, 110), country("BR", 50, 30), country("IN", 50, 60)]
    seg = by_segment(segment_drivers(cells, ["country"]))
    # US max(100/200, 110/200) = 0.55; BR max(50/200, 30/200) = 0.25; IN max(50/200, 60/200) = 0.3.
    assert seg[(("country", "US"),)].support == pytest.approx(0.55)
    assert seg[(("country", "BR"),)].support == pytest.approx(0.25)
    assert seg[(("country", "IN"),)].support == pytest.approx(0.3)
    # min_support 0.26 leaves BR (0.25) out; the others keep their numbers and are re-ranked.
    kept = segment_drivers(cells, ["country"], min_support=0.26)
    assert [(d.segment[0][1], d.rank) for d in kept] == [("US", 1), ("IN", 2)]
    assert kept[0].unexpected_difference == pytest.approx(20)


def test_planted_drop_in_one_country_and_platform_ranks_first_and_its_parents_are_pruned() -> None:
    # 3 countries × 3 platforms, every cell 100 in both periods except BR × android 100 -> 40.
    # Population 900 -> 840.
    cells = grid(100, {("BR", "android"): 40})
    drivers = segment_drivers(cells, ["country", "platform"])
    seg = by_segment(drivers)
    top = drivers[0]
    # BR × android: complement 800 -> 800, ratio 1; expected 100; unexpected 40 - 100 = -60; relative -0.6.
    assert top.segment == (("country", "BR"), ("platform", "android"))
    assert top.rank == 1
    assert top.unexpected_difference == pytest.approx(-60)
    assert top.relative_unexpected_difference == pytest.approx(-0.6)
    # country=BR (300 -> 240, complement 600 -> 600: unexpected -60) and platform=android (likewise) are
    # explained by their child BR × android (same sign, as large): pruned.
    assert (("country", "BR"),) not in seg
    assert (("platform", "android"),) not in seg
    # US: 300 -> 300, complement 600 -> 540, ratio 0.9, expected 270, unexpected +30 (the complement fell);
    # its children (e.g. US × ios: complement 800 -> 740, ratio 0.925, expected 92.5, +7.5) do not explain it.
    us = seg[(("country", "US"),)]
    assert us.expected_after == pytest.approx(270)
    assert us.unexpected_difference == pytest.approx(30)
    assert seg[(("country", "US"), ("platform", "ios"))].unexpected_difference == pytest.approx(7.5)
    # 15 segments (3 + 3 + 9) less the 2 pruned parents; ranks 2-5 are the four +30 one-dimension
    # segments in dimension then value order, then the eight +7.5 cells.
    assert len(drivers) == 13
    assert [d.segment for d in drivers[1:5]] == [
        (("country", "IN"),),
        (("country", "US"),),
        (("platform", "ios"),),
        (("platform", "web"),),
    ]
    assert all(d.unexpected_difference == pytest.approx(7.5) for d in drivers[5:])


def test_a_child_explains_its_parent_when_it_carries_most_of_its_surprise() -> None:
    # As above, and BR × ios 100 -> 105: population 900 -> 845.
    cells = grid(100, {("BR", "android"): 40, ("BR", "ios"): 105})
    # BR × android: complement 800 -> 805, expected 100 × 805/800 = 100.625, unexpected -60.625.
    # platform=android: 300 -> 240, complement (ios + web) 600 -> 605, expected 302.5, unexpected -62.5:
    # the child carries 60.625 / 62.5 = 97 % of it (>= 90 %): pruned by default.
    # country=BR: 300 -> 245, complement 600 -> 600, unexpected -55: the child carries more: pruned.
    default = segment_drivers(cells, ["country", "platform"])
    assert default[0].segment == (("country", "BR"), ("platform", "android"))
    assert default[0].unexpected_difference == pytest.approx(-60.625)
    assert (("platform", "android"),) not in by_segment(default)
    # Asking the child for all of the parent's surprise keeps platform=android, which then leads.
    strict = segment_drivers(cells, ["country", "platform"], explained_share=1.0)
    assert strict[0].segment == (("platform", "android"),)
    assert strict[0].unexpected_difference == pytest.approx(-62.5)
    assert strict[1].segment == (("country", "BR"), ("platform", "android"))
    assert (("country", "BR"),) not in by_segment(strict)


def test_without_pruning_the_tie_goes_to_the_more_descriptive_segment() -> None:
    cells = grid(100, {("BR", "android"): 40})
    drivers = segment_drivers(cells, ["country", "platform"], prune=False)
    # All 15 segments; the three at -60 (BR × android, BR, android) lead, the two-dimension one first.
    assert len(drivers) == 15
    assert [d.segment for d in drivers[:3]] == [
        (("country", "BR"), ("platform", "android")),
        (("country", "BR"),),
        (("platform", "android"),),
    ]
    assert all(d.unexpected_difference == pytest.approx(-60) for d in drivers[:3])


def test_a_drop_spread_over_a_country_keeps_the_country() -> None:
    # BR's three platforms each 100 -> 80: population 900 -> 840.
    cells = grid(100, {("BR", "android"): 80, ("BR", "ios"): 80, ("BR", "web"): 80})
    drivers = segment_drivers(cells, ["country", "platform"])
    # BR: 300 -> 240, complement 600 -> 600, unexpected -60. A BR cell: complement 800 -> 840 - 80 = 760,
    # ratio 0.95, expected 95, unexpected 80 - 95 = -15: less than 0.9 × 60, so BR stays, first.
    assert drivers[0].segment == (("country", "BR"),)
    assert drivers[0].unexpected_difference == pytest.approx(-60)
    cell = by_segment(drivers)[(("country", "BR"), ("platform", "ios"))]
    assert cell.unexpected_difference == pytest.approx(-15)


def test_a_parent_with_a_single_child_is_pruned_as_bigquery_does() -> None:
    # CA has only web, ios is only in US: country=CA ≡ CA × web and platform=ios ≡ US × ios have the same
    # values, so the less descriptive of each pair goes (PRUNE_REDUNDANT_INSIGHTS keeps the more descriptive).
    cells = [
        Cell({"country": "US", "platform": "ios"}, 100, 100),
        Cell({"country": "US", "platform": "web"}, 100, 100),
        Cell({"country": "CA", "platform": "web"}, 50, 20),
    ]
    drivers = segment_drivers(cells, ["country", "platform"])
    # Population 250 -> 220.
    # US: 200 -> 200, complement (CA) 50 -> 20, ratio 0.4, expected 80, unexpected +120.
    # CA × web: complement 200 -> 200, expected 50, unexpected -30.
    # web: 150 -> 120, complement (ios) 100 -> 100, unexpected -30: explained by CA × web, pruned.
    # US × ios and US × web: complement 150 -> 120, ratio 0.8, expected 80, unexpected +20 each.
    assert [(d.segment, round(d.unexpected_difference, 9)) for d in drivers] == [
        ((("country", "US"),), 120),
        ((("country", "CA"), ("platform", "web")), -30),
        ((("country", "US"), ("platform", "ios")), 20),
        ((("country", "US"), ("platform", "web")), 20),
    ]


def test_a_segment_present_in_one_period_only() -> None:
    # BR is new (0 -> 20), IN disappears (50 -> 0), US stays 100. Population 150 -> 120.
    cells = [country("US", 100, 100), country("BR", 0, 20), country("IN", 50, 0)]
    drivers = segment_drivers(cells, ["country"])
    seg = by_segment(drivers)
    br = seg[(("country", "BR"),)]
    # BR: complement 150 -> 100; expected 0 × 2/3 = 0; unexpected +20; no relative values (base 0);
    # support max(0/150, 20/120) = 1/6.
    assert br.expected_after == 0
    assert br.unexpected_difference == pytest.approx(20)
    assert br.relative_difference is None
    assert br.relative_unexpected_difference is None
    assert br.support == pytest.approx(1 / 6)
    india = seg[(("country", "IN"),)]
    # IN: complement 100 -> 120, ratio 1.2, expected 60, unexpected -60, relative -1; support 50/150 = 1/3.
    assert india.expected_after == pytest.approx(60)
    assert india.unexpected_difference == pytest.approx(-60)
    assert india.relative_unexpected_difference == pytest.approx(-1)
    assert india.support == pytest.approx(1 / 3)
    # US: complement 50 -> 20, ratio 0.4, expected 40, unexpected +60; ties IN at 60, IN first by value.
    assert seg[(("country", "US"),)].unexpected_difference == pytest.approx(60)
    assert [d.segment[0][1] for d in drivers] == ["IN", "US", "BR"]


def test_an_empty_complement_falls_back_to_the_population_ratio() -> None:
    # US 0 -> 10 (new), BR 100 -> 80. Population 100 -> 90.
    cells = [country("US", 0, 10), country("BR", 100, 80)]
    seg = by_segment(segment_drivers(cells, ["country"]))
    br = seg[(("country", "BR"),)]
    # BR's complement (US) was 0 before: no complement ratio; population 90/100 = 0.9, expected 90,
    # unexpected 80 - 90 = -10.
    assert br.expected_basis == "population"
    assert br.expected_after == pytest.approx(90)
    assert br.unexpected_difference == pytest.approx(-10)
    # US: complement 100 -> 80, ratio 0.8, expected 0, unexpected +10.
    assert seg[(("country", "US"),)].expected_basis == "complement"
    assert seg[(("country", "US"),)].unexpected_difference == pytest.approx(10)


def test_negative_values_refunds() -> None:
    # Revenue with a refund segment: A 100 -> 120, R -20 -> -10, C 20 -> 10. Population 100 -> 120.
    cells = [country("A", 100, 120), country("R", -20, -10), country("C", 20, 10)]
    seg = by_segment(segment_drivers(cells, ["country"]))
    a = seg[(("country", "A"),)]
    # A's complement R + C is 0 before: population ratio 1.2, expected 120, unexpected 0.
    assert a.expected_basis == "population"
    assert a.expected_after == pytest.approx(120)
    assert a.unexpected_difference == pytest.approx(0)
    r = seg[(("country", "R"),)]
    # R: complement 120 -> 130, ratio 13/12; expected -20 × 13/12 = -21.667; unexpected -10 + 21.667 = 11.667;
    # relative 11.667 / 21.667 = 7/13; relative difference 10 / abs(-20) = 0.5.
    assert r.expected_after == pytest.approx(-21.666667, abs=1e-6)
    assert r.unexpected_difference == pytest.approx(11.666667, abs=1e-6)
    assert r.relative_unexpected_difference == pytest.approx(7 / 13)
    assert r.relative_difference == pytest.approx(0.5)
    # Support on absolute values: max(20 / (100 + 20 + 20), 10 / (120 + 10 + 10)) = 1/7.
    assert r.support == pytest.approx(1 / 7)
    c = seg[(("country", "C"),)]
    # C: complement 80 -> 110, ratio 11/8, expected 27.5, unexpected -17.5, relative -7/11.
    assert c.unexpected_difference == pytest.approx(-17.5)
    assert c.relative_unexpected_difference == pytest.approx(-7 / 11)


def test_no_meaningful_ratio_expects_no_change() -> None:
    # X -10 -> -5, Y 0 -> 5: population -10 -> 0, not positive before.
    cells = [country("X", -10, -5), country("Y", 0, 5)]
    seg = by_segment(segment_drivers(cells, ["country"]))
    x = seg[(("country", "X"),)]
    # X: complement (Y) 0 before, population -10 before: expected = before = -10, unexpected +5.
    assert x.expected_basis == "none"
    assert x.expected_after == -10
    assert x.unexpected_difference == 5
    y = seg[(("country", "Y"),)]
    # Y: complement (X) -10 before: no ratio either; expected 0, unexpected +5.
    assert y.expected_basis == "none"
    assert y.unexpected_difference == 5
    for driver in seg.values():
        assert all(
            math.isfinite(value)
            for value in (driver.expected_after, driver.unexpected_difference, driver.support)
        )


def test_a_vanishing_base_gives_no_relative_value() -> None:
    # 1e-310 -> 1e10: the relative difference would overflow to inf; it is None instead.
    drivers = segment_drivers([country("US", 1e-310, 1e10), country("BR", 1, 1)], ["country"])
    us = by_segment(drivers)[(("country", "US"),)]
    assert us.relative_difference is None
    assert us.relative_unexpected_difference is None


def test_a_dimension_value_every_cell_has_cuts_nothing() -> None:
    # CAC-like cells: only the channel is cut, country is 'all' everywhere.
    cells = [
        Cell({"country": "all", "channel": "paid"}, 10, 12),
        Cell({"country": "all", "channel": "organic"}, 5, 5),
    ]
    drivers = segment_drivers(cells, ["country", "channel"])
    assert sorted(d.segment for d in drivers) == [(("channel", "organic"),), (("channel", "paid"),)]


def test_cells_without_a_dimension_are_an_error() -> None:
    with pytest.raises(DecompositionError, match="platform"):
        segment_drivers([country("US", 1, 2)], ["country", "platform"])


# ---------------------------------------------------------------------------------------------------
# Ratio metrics: mix and rate
# ---------------------------------------------------------------------------------------------------


def ratio_cell(value: str, n0: float, d0: float, n1: float, d1: float) -> Cell:
    return Cell({"country": value}, n0, n1, d0, d1)


def test_mix_only() -> None:
    # US 30/100 -> 36/120 (rate 0.3 both), BR 20/100 -> 8/40 (0.2 both). Ratio 50/200 = 0.25 -> 44/160 = 0.275.
    drivers = {
        d.segment[0][1]: d
        for d in mix_rate_drivers(
            [ratio_cell("US", 30, 100, 36, 120), ratio_cell("BR", 20, 100, 8, 40)], "country"
        )
    }
    # Shares 0.5/0.5 -> 0.75/0.25. US mix (0.75 - 0.5) × 0.3 = 0.075; BR mix -0.25 × 0.2 = -0.05; rate 0.
    assert drivers["US"].mix_effect == pytest.approx(0.075)
    assert drivers["BR"].mix_effect == pytest.approx(-0.05)
    assert drivers["US"].rate_effect == pytest.approx(0)
    assert drivers["BR"].rate_effect == pytest.approx(0)
    assert drivers["US"].before_share == 0.5
    assert drivers["US"].after_share == 0.75


def four_country_ratio() -> list[Cell]:
    # before: US 30/100, BR 20/100, CA 10/50, IN absent: 60/250 = 0.24.
    # after:  US 40/100, BR 10/50, CA absent, IN 15/50: 65/200 = 0.325. Change +0.085.
    return [
        ratio_cell("US", 30, 100, 40, 100),
        ratio_cell("BR", 20, 100, 10, 50),
        ratio_cell("CA", 10, 50, 0, 0),
        ratio_cell("IN", 0, 0, 15, 50),
    ]


def test_mix_and_rate_with_segments_present_in_one_period() -> None:
    drivers = mix_rate_drivers(four_country_ratio(), "country")
    got = {d.segment[0][1]: d for d in drivers}
    # Shares before US 0.4, BR 0.4, CA 0.2; after US 0.5, BR 0.25, IN 0.25.
    # US: rates 0.3 -> 0.4; mix (0.5 - 0.4)(0.3 + 0.4)/2 = 0.035; rate (0.4 + 0.5)/2 × 0.1 = 0.045; total 0.08.
    assert got["US"].mix_effect == pytest.approx(0.035)
    assert got["US"].rate_effect == pytest.approx(0.045)
    assert got["US"].total_effect == pytest.approx(0.08)
    # BR: rate 0.2 both; mix (0.25 - 0.4) × 0.2 = -0.03.
    assert got["BR"].mix_effect == pytest.approx(-0.03)
    assert got["BR"].rate_effect == pytest.approx(0)
    # CA leaves: takes its before rate 0.2 after; mix (0 - 0.2) × 0.2 = -0.04, no rate effect.
    assert got["CA"].mix_effect == pytest.approx(-0.04)
    assert got["CA"].rate_effect == 0
    assert got["CA"].after_rate is None
    # IN arrives: takes its after rate 0.3 before; mix 0.25 × 0.3 = 0.075.
    assert got["IN"].mix_effect == pytest.approx(0.075)
    assert got["IN"].rate_effect == 0
    assert got["IN"].before_rate is None
    # 0.08 + 0.075 - 0.04 - 0.03 = 0.085 = 0.325 - 0.24, exactly (to 1e-12).
    assert abs(sum(d.total_effect for d in drivers) - (65 / 200 - 60 / 250)) < 1e-12
    assert [d.segment[0][1] for d in drivers] == ["US", "IN", "CA", "BR"]
    assert all(d.total_effect == d.mix_effect + d.rate_effect for d in drivers)


def test_a_numerator_over_a_zero_denominator_moves_as_rate() -> None:
    # XX has 2 in the numerator after but no denominator: ratio 67/200 = 0.335 after, 0.24 before.
    cells = [*four_country_ratio(), ratio_cell("XX", 0, 0, 2, 0)]
    drivers = mix_rate_drivers(cells, "country")
    xx = next(d for d in drivers if d.segment == (("country", "XX"),))
    # No share to move: its term 2/200 = 0.01 is rate effect.
    assert xx.mix_effect == 0
    assert xx.rate_effect == pytest.approx(0.01)
    assert xx.before_rate is None
    assert xx.after_rate is None
    assert abs(sum(d.total_effect for d in drivers) - (67 / 200 - 60 / 250)) < 1e-12


def test_zero_total_denominator_has_no_split() -> None:
    with pytest.raises(DecompositionError, match="denominator is 0"):
        mix_rate_drivers([ratio_cell("US", 0, 0, 1, 10)], "country")
    with pytest.raises(DecompositionError, match="no denominator"):
        mix_rate_drivers([country("US", 1, 2)], "country")


# ---------------------------------------------------------------------------------------------------
# The metric tree
# ---------------------------------------------------------------------------------------------------


def test_sum_attribution() -> None:
    # WAU = new + returning + resurrecting: 100 + 800 + 100 = 1000 -> 120 + 780 + 60 = 960.
    drivers = sum_attribution(
        1000, 960, {"returning": (800, 780), "new": (100, 120), "resurrecting": (100, 60)}
    )
    # resurrecting -40 (-4 points), then new +20 and returning -20 (tie: by name).
    assert [(d.metric, d.contribution, d.contribution_share, d.rank) for d in drivers] == [
        ("resurrecting", -40, -0.04, 1),
        ("new", 20, 0.02, 2),
        ("returning", -20, -0.02, 3),
    ]


def test_sum_attribution_shows_what_the_children_leave_out() -> None:
    # Children change by -40 but the parent by -30: a residual row of +10 keeps the sum exact.
    drivers = sum_attribution(1000, 970, {"a": (500, 480), "b": (500, 480)})
    residual = next(d for d in drivers if d.metric == RESIDUAL)
    assert residual.contribution == pytest.approx(10)
    assert residual.method == "residual"
    assert sum(d.contribution for d in drivers) == pytest.approx(-30)


def test_lmdi_for_the_north_star_product() -> None:
    # north star = WAU × share: 1000 × 0.5 = 500 -> 1100 × 0.4 = 440, change -60.
    # L(440, 500) = -60 / ln(0.88) = -60 / -0.1278334 = 469.3644.
    # WAU: 469.3644 × ln(1.1) = 469.3644 × 0.0953102 = +44.7352; share: 469.3644 × ln(0.8)
    # = 469.3644 × -0.2231436 = -104.7352; together -60.
    drivers = product_attribution(500, 440, {"wau": (1000, 1100), "share": (0.5, 0.4)})
    got = {d.metric: d for d in drivers}
    assert got["wau"].contribution == pytest.approx(44.7352, abs=1e-3)
    assert got["share"].contribution == pytest.approx(-104.7352, abs=1e-3)
    # Points of the -12 % change: +8.95 and -20.95.
    assert got["wau"].contribution_share == pytest.approx(0.089470, abs=1e-5)
    assert got["share"].contribution_share == pytest.approx(-0.209470, abs=1e-5)
    assert [d.metric for d in drivers] == ["share", "wau"]
    assert all(d.method == "lmdi" for d in drivers)
    assert abs(sum(d.contribution for d in drivers) - (-60)) < 1e-9


def test_lmdi_for_a_ratio_flips_the_denominator() -> None:
    # CAC = spend / new customers: 1000 / 50 = 20 -> 1500 / 60 = 25, change +5.
    # L(25, 20) = 5 / ln(1.25) = 5 / 0.2231436 = 22.4071.
    # spend: 22.4071 × ln(1.5) = 22.4071 × 0.4054651 = +9.0853; customers: -22.4071 × ln(1.2)
    # = -22.4071 × 0.1823216 = -4.0853.
    drivers = ratio_attribution(("spend", 1000, 1500), ("new_customers", 50, 60))
    got = {d.metric: d for d in drivers}
    assert got["spend"].contribution == pytest.approx(9.0853, abs=1e-3)
    assert got["new_customers"].contribution == pytest.approx(-4.0853, abs=1e-3)
    assert got["new_customers"].before == 50
    # Shares of the parent's before (20): +45.4 and -20.4 points.
    assert got["spend"].contribution_share == pytest.approx(0.454265, abs=1e-5)
    assert abs(sum(d.contribution for d in drivers) - 5) < 1e-12


def test_a_zero_factor_falls_back_to_the_shapley_split() -> None:
    # WAU 0 -> 100, share 0.5 -> 0.4: product 0 -> 40. ln 0 does not exist.
    # WAU: (100 - 0)(0.5 + 0.4)/2 = 45; share: (0.4 - 0.5)(0 + 100)/2 = -5; sum 40.
    drivers = product_attribution(0, 40, {"wau": (0, 100), "share": (0.5, 0.4)})
    got = {d.metric: d for d in drivers}
    assert got["wau"].contribution == pytest.approx(45)
    assert got["share"].contribution == pytest.approx(-5)
    assert got["wau"].method == "shapley"
    # No relative change from 0: the share of the change is 0, not inf.
    assert got["wau"].contribution_share == 0


def test_a_negative_numerator_falls_back_for_a_ratio() -> None:
    # profit / users: -100 / 50 = -2 -> 50 / 100 = 0.5, change +2.5.
    # profit: (50 + 100)/2 × (1/50 + 1/100) = 75 × 0.03 = 2.25;
    # users: (-100 + 50)/2 × (1/100 - 1/50) = -25 × -0.01 = 0.25.
    drivers = ratio_attribution(("profit", -100, 50), ("users", 50, 100))
    got = {d.metric: d for d in drivers}
    assert got["profit"].contribution == pytest.approx(2.25)
    assert got["users"].contribution == pytest.approx(0.25)
    assert got["profit"].method == "shapley"
    # Shares of abs(-2): +112.5 and +12.5 points.
    assert got["profit"].contribution_share == pytest.approx(1.125)


def test_a_ratio_with_a_zero_denominator_is_an_error() -> None:
    with pytest.raises(DecompositionError, match="users is 0"):
        ratio_attribution(("profit", 1, 2), ("users", 0, 3))


# ---------------------------------------------------------------------------------------------------
# Exactness on random data
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(20))
def test_every_split_is_exact_on_random_positive_data(seed: int) -> None:
    rng = random.Random(seed)
    countries = ["BR", "IN", "US", "DE"][: rng.randint(2, 4)]
    platforms = ["android", "ios", "web"][: rng.randint(1, 3)]
    cells = [
        Cell(
            {"country": c, "platform": p},
            rng.uniform(0, 1000),
            rng.uniform(0, 1000),
            rng.uniform(1, 500),
            rng.uniform(1, 500),
        )
        for c in countries
        for p in platforms
        if rng.random() > 0.1
    ] or [Cell({"country": "BR", "platform": "ios"}, 1.0, 2.0, 3.0, 4.0)]
    before = math.fsum(c.before for c in cells)
    after = math.fsum(c.after for c in cells)

    # Segments: each driver's own identities; one dimension's differences add up to the total's.
    drivers = segment_drivers(cells, ["country", "platform"], prune=False)
    for d in drivers:
        assert d.difference == pytest.approx(d.after - d.before)
        assert d.expected_after + d.unexpected_difference == pytest.approx(d.after)
        assert 0 <= d.support <= 1
        assert math.isfinite(d.unexpected_difference)
    by_country = [d for d in drivers if len(d.segment) == 1 and d.segment[0][0] == "country"]
    if len(by_country) > 1:
        assert math.fsum(d.difference for d in by_country) == pytest.approx(after - before)
    assert [d.rank for d in drivers] == list(range(1, len(drivers) + 1))

    # Mix + rate over each dimension = the ratio's change, to 1e-12.
    ratio_change = after / math.fsum(c.after_denominator or 0 for c in cells) - before / math.fsum(
        c.before_denominator or 0 for c in cells
    )
    for dimension in ("country", "platform"):
        split = mix_rate_drivers(cells, dimension)
        assert abs(math.fsum(d.total_effect for d in split) - ratio_change) < 1e-12

    # Tree: LMDI products (2 and 3 factors), ratios and sums add up to the parent's change.
    factors = {f"x{i}": (rng.uniform(0.1, 10), rng.uniform(0.1, 10)) for i in range(rng.randint(2, 3))}
    p0 = math.prod(v[0] for v in factors.values())
    p1 = math.prod(v[1] for v in factors.values())
    tree = product_attribution(p0, p1, factors)
    assert RESIDUAL not in [d.metric for d in tree]
    assert abs(math.fsum(d.contribution for d in tree) - (p1 - p0)) < 1e-9 * max(1, p0, p1)
    n0, n1, d0, d1 = (rng.uniform(1, 100) for _ in range(4))
    ratio = ratio_attribution(("n", n0, n1), ("d", d0, d1))
    assert abs(math.fsum(d.contribution for d in ratio) - (n1 / d1 - n0 / d0)) < 1e-12
    children = {f"c{i}": (rng.uniform(0, 100), rng.uniform(0, 100)) for i in range(4)}
    sums = sum_attribution(
        math.fsum(v[0] for v in children.values()), math.fsum(v[1] for v in children.values()), children
    )
    assert RESIDUAL not in [d.metric for d in sums]


@pytest.mark.parametrize("seed", range(10))
def test_the_shapley_fallback_is_exact_with_signs(seed: int) -> None:
    rng = random.Random(seed)
    factors = {f"x{i}": (rng.uniform(-5, 5), rng.uniform(-5, 5)) for i in range(rng.randint(2, 4))}
    p0 = math.prod(v[0] for v in factors.values())
    p1 = math.prod(v[1] for v in factors.values())
    tree = product_attribution(p0, p1, factors)
    assert all(d.method == "shapley" for d in tree) or all(d.method == "lmdi" for d in tree)
    assert abs(math.fsum(d.contribution for d in tree) - (p1 - p0)) < 1e-9
    assert all(math.isfinite(d.contribution) and math.isfinite(d.contribution_share) for d in tree)
