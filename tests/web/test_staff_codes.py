"""Classification codes end to end, on the real app, the real pipeline and the lane's
database: managers keep the tree on ``/staff/codes``, engineers set codes by mail and
through the action endpoint, keyword rules set or suggest one on new tickets, and the API
filters by a code and its subtree."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.builders import claim
from tests.e2e.support import text_of
from tests.web.staff_support import Desk, desk
from tests.web.test_staff_macros import (
    AGENT,
    MANAGER,
    engineer_mail,
    new_claim,
    post,
    receive,
    sent_ids,
    ticket,
)
from ticketd.store.codes import tree
from ticketd.store.schema import codes

RULES = """
[[codes.rules]]
subject_contains = ["파손"]
code = "배송/파손/교환요청"
mode = "set"

[[codes.rules]]
body_contains = ["refund", "환불"]
code = "결제/환불요청"
"""


@pytest.fixture
def d(tmp_path: Path) -> Iterator[Desk]:
    with desk(tmp_path, stored=True, extra=RULES) as opened:
        opened.components.ingestor.clock = opened.clock
        yield opened


def add_codes(d: Desk, *paths: str) -> None:
    with d.components.store.write() as writer:
        for path in paths:
            assert writer.add_code(path, "", "", MANAGER) is None


def codes_page(d: Desk) -> str:
    answer = d.client.get("/staff/codes?lang=ko")
    assert answer.status_code == 200, answer.text
    return answer.text


def code_id(d: Desk, path: str) -> int:
    with d.components.store.write() as writer:
        code = tree(writer.connection).by_path(path, live=False)
    assert code is not None
    return code.id


def add(d: Desk, csrf: str, path: str, **labels: str) -> int:
    fields = {"csrf_token": csrf, "path": path, **labels}
    return d.client.post("/staff/codes/add", data=fields).status_code


def new_mail(d: Desk, before: set[str]) -> list[str]:
    d.flush()
    return [text_of(m) for m in d.ws.sent_mail() if m["Message-ID"] not in before]


def test_a_manager_builds_the_tree_on_the_codes_page(d: Desk) -> None:
    csrf = d.sign_in(MANAGER)
    assert add(d, csrf, "배송 > 파손 > 교환요청", label_ko="교환 요청", label_en="Exchange") == 303
    assert add(d, csrf, "계정") == 303
    page = codes_page(d)
    assert "배송/파손/교환요청" in page and "교환 요청" in page and "배송/파손" in page
    assert add(d, csrf, "배송/파손/교환요청") == 400  # exists
    assert add(d, csrf, "a/b/c/d") == 400
    damage = code_id(d, "배송/파손")
    labels = {"label_ko": "파손됨", "label_en": "Damage"}
    assert post(d, f"/staff/codes/{damage}/labels", csrf, **labels) == 303
    assert "Damage" in d.client.get("/staff/codes?lang=en").text
    account = code_id(d, "계정")
    assert post(d, f"/staff/codes/{damage}/move", csrf, parent=str(account)) == 303
    page = codes_page(d)
    assert "계정/파손/교환요청" in page and '"tracking">배송/파손' not in page
    assert post(d, f"/staff/codes/{account}/move", csrf, parent=str(damage)) == 400  # itself
    tracking, _ = new_claim(d, "교환 문의")
    receive(d, engineer_mail(tracking, "#code 교환요청"))
    assert ticket(d, tracking)["code"] == "계정/파손/교환요청"
    assert post(d, f"/staff/codes/{damage}/retire", csrf) == 303
    page = codes_page(d)
    assert page.count("사용 중지됨") == 2  # the node and its child
    assert ticket(d, tracking)["code"] == "계정/파손/교환요청"  # tickets keep it
    assert post(d, f"/staff/codes/{damage}/restore", csrf) == 303
    assert codes_page(d).count("사용 중지됨") == 1  # its child stays retired


def test_agents_get_403_and_forms_need_the_csrf_token(d: Desk) -> None:
    d.sign_in(MANAGER)
    assert add(d, "wrong", "배송") == 403
    assert "분류 코드가 아직 없습니다" in codes_page(d)
    assert 'href="/staff/codes"' in d.client.get("/staff/").text
    csrf = d.sign_in(AGENT)
    assert 'href="/staff/codes"' not in d.client.get("/staff/").text
    assert d.client.get("/staff/codes").status_code == 403
    assert add(d, csrf, "배송") == 403
    with d.components.store.write() as writer:
        assert writer.connection.execute(select(func.count()).select_from(codes)).scalar() == 0


def test_code_by_mail_sets_it_and_answers_refused_lines_to_the_engineer(d: Desk) -> None:
    add_codes(d, "배송/파손/교환요청", "배송/파손/환불요청", "결제/환불요청")
    tracking, owner = new_claim(d, "로그인 문의")
    assert owner == AGENT
    receive(d, engineer_mail(tracking, "#code 파손/교환요쳥"))
    shown = ticket(d, tracking)
    assert shown["code"] == "배송/파손/교환요청"
    [event] = [e for e in shown["events"] if e["type"] == "code_changed"]  # type: ignore[attr-defined]
    assert (event["actor"], event["summary"]) == (AGENT, "code: 배송/파손/교환요청")
    before = sent_ids(d)
    receive(d, engineer_mail(tracking, "#code 환불요청\n#code add 반품/단순변심"))
    [answer] = new_mail(d, before)
    assert "'환불요청'에 맞는 코드가 2개입니다: 결제/환불요청, 배송/파손/환불요청" in answer
    assert "코드 추가는 매니저만 할 수 있습니다" in answer
    assert ticket(d, tracking)["code"] == "배송/파손/교환요청"
    receive(d, engineer_mail(tracking, "#code add 반품/단순변심\n#code 단순변심", MANAGER))
    assert ticket(d, tracking)["code"] == "반품/단순변심"
    receive(d, engineer_mail(tracking, "#code retire 반품", MANAGER))
    assert ticket(d, tracking)["code"] == "반품/단순변심"
    before = sent_ids(d)
    receive(d, engineer_mail(tracking, "#code 반품/단순변심", MANAGER))
    assert any("코드 반품/단순변심은 폐지되었습니다" in m for m in new_mail(d, before))
    receive(d, engineer_mail(tracking, "#code none", MANAGER))
    assert ticket(d, tracking)["code"] is None


def test_the_action_endpoint_takes_code_lines(d: Desk) -> None:
    add_codes(d, "배송/지연")
    tracking, _ = new_claim(d, "배송 문의")
    csrf = d.sign_in(MANAGER)
    seen = ticket(d, tracking)["version"]
    body = {"commands": ["#code 지연", "#code 없는코드"], "text": "", "version": seen}
    answer = d.client.post(
        f"/staff/api/tickets/{tracking}/actions", json=body, headers={"X-CSRF-Token": csrf}
    )
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["done"] == ["#code 지연  -- 코드를 배송/지연으로 정했습니다"]
    assert "코드 '없는코드'가 없습니다" in result["refused"][0]
    api = d.client.get(f"/staff/api/tickets/{tracking}").json()
    assert api["code"] == "배송/지연"
    page = d.client.get(f"/staff/t/{tracking}").text
    assert "배송 › 지연" in page and 'value="#code 배송/지연"' in page
    assert '<span class="tag code">배송/지연</span>' in d.client.get("/staff/?tab=open").text


def test_keyword_rules_set_or_suggest_a_code_on_new_tickets(d: Desk) -> None:
    add_codes(d, "배송/파손/교환요청", "결제/환불요청")
    tracking, _ = new_claim(d, "상자가 파손되어 왔습니다")
    shown = ticket(d, tracking)
    assert shown["code"] == "배송/파손/교환요청"
    assert [e["actor"] for e in shown["events"] if e["type"] == "code_changed"] == ["rule"]  # type: ignore[attr-defined]
    suggested, _ = new_claim(d, "결제 문의")  # the body does not say refund
    assert ticket(d, suggested)["code"] is None
    receive(d, claim(subject="돈을 돌려주세요", body="환불 부탁드립니다.", sender="lee@acme.co.kr"))
    with d.components.store.read() as reader:
        [made] = [t for t in reader.tickets() if t["subject"] == "돈을 돌려주세요"]
    refund = made["tracking"]
    assert ticket(d, refund)["code"] is None
    csrf = d.sign_in(MANAGER)
    page = d.client.get(f"/staff/t/{refund}").text
    assert "제안된 분류 코드" in page and 'value="#code 결제/환불요청"' in page
    version = re.search(r'name="version" value="(\d+)"', page).group(1)  # type: ignore[union-attr]
    fields = {"version": version, "commands": "#code 결제/환불요청", "text": ""}
    answer = d.client.post(f"/staff/t/{refund}/act", data={"csrf_token": csrf, **fields})
    assert answer.status_code == 303
    assert ticket(d, refund)["code"] == "결제/환불요청"
    assert "제안된 분류 코드" not in d.client.get(f"/staff/t/{refund}").text


def test_the_list_api_filters_by_a_code_and_its_subtree(d: Desk) -> None:
    add_codes(d, "배송/파손/교환요청", "배송/지연", "결제")
    first, _ = new_claim(d, "하나")
    second, _ = new_claim(d, "둘")
    third, _ = new_claim(d, "셋")
    receive(d, engineer_mail(first, "#code 배송/파손/교환요청", MANAGER))
    receive(d, engineer_mail(second, "#code 배송/지연", MANAGER))
    receive(d, engineer_mail(third, "#code 결제", MANAGER))
    d.sign_in(MANAGER)

    def listed(code: str) -> set[str]:
        answer = d.client.get("/staff/api/tickets", params={"code": code, "tab": "open"})
        assert answer.status_code == 200, answer.text
        return {t["tracking"] for t in answer.json()["tickets"]}

    assert listed("배송") == {first, second}
    assert listed("배송/파손") == {first}
    assert listed("결제") == {third}
    assert listed("없음/없음") == set()
    queue = d.client.get("/staff/?tab=open&code=배송/파손").text
    assert first in queue and second not in queue and 'value="배송/파손"' in queue
    everything = d.client.get("/staff/api/tickets?tab=open").json()["tickets"]
    assert {t["tracking"]: t["code"] for t in everything}[second] == "배송/지연"


def test_the_codes_page_says_what_is_wrong_in_the_viewers_language(d: Desk) -> None:
    csrf = d.sign_in(MANAGER)
    codes_page(d)  # the viewer chose Korean
    assert add(d, csrf, "배송/파손") == 303
    again = d.client.post("/staff/codes/add", data={"csrf_token": csrf, "path": "배송/파손"})
    assert again.status_code == 400 and "코드 배송/파손은 이미 있습니다" in again.text
    shipping = code_id(d, "배송")
    damage = code_id(d, "배송/파손")
    itself = d.client.post(
        f"/staff/codes/{shipping}/move", data={"csrf_token": csrf, "parent": str(damage)}
    )
    assert itself.status_code == 400 and "코드를 자기 아래로 옮길 수 없습니다" in itself.text
    gone = d.client.post("/staff/codes/999999/move", data={"csrf_token": csrf, "parent": ""})
    assert gone.status_code == 400 and "그런 코드가 없습니다" in gone.text
    d.client.get("/staff/codes?lang=en")
    again = d.client.post("/staff/codes/add", data={"csrf_token": csrf, "path": "배송/파손"})
    assert again.status_code == 400 and "the code 배송/파손 exists" in again.text
    d.client.get("/staff/codes?lang=ko")
    d.sign_in(AGENT)
    refused = d.client.get("/staff/codes")
    assert refused.status_code == 403 and "분류 코드는 관리자만 바꿀 수 있습니다" in refused.text
