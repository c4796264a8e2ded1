"""The ``#help`` command list in the reader's language: English as ``routing.commands``
defines it, Korean here (the command words themselves are never translated)."""

from __future__ import annotations

from ticketd.routing.commands import HELP_TEXT

KOREAN_HELP = "\n".join(
    (
        "#assign 이메일-또는-이름      다른 엔지니어에게 티켓을 넘깁니다(받는 사람에게 알립니다)",
        "#status open|pending|waiting|resolved|closed",
        "#priority low|normal|high|urgent",
        "#close  #reopen  #resolve    #status의 줄임말",
        "#note [내용]                 메일의 나머지 내용은 내부 메모가 됩니다",
        "#merge 접수번호              이 티켓을 그 접수번호 티켓의 중복으로 합칩니다",
        "#take                        담당이 없는 티켓을 직접 맡습니다",
        "#if-owner 이메일             그 이메일이 아직 담당일 때만 메일 전체를 적용합니다",
        "#if-status 상태              티켓이 아직 그 상태일 때만 메일 전체를 적용합니다",
        "#type bug|feature|question",
        "#time 시간                   작업 시간, 예: 45m 또는 1h30m",
        "#billable yes|no             이 티켓의 작업 시간을 청구할지 정합니다",
        "#cc add 이메일, #cc remove 이메일  참조인(고객 메일의 Cc)을 추가하거나 뺍니다",
        "#macro 이름                  저장된 답장(과 그 안의 명령)을 넣습니다",
        "#code 경로                   분류 코드, 예: 배송/파손/교환요청(경로 일부만 써도",
        "                             됩니다); #code none(또는 #code)은 코드를 지웁니다",
        "#code add 경로, #code retire 경로  매니저: 코드를 만들거나 폐지합니다",
        "#send                        답장한 알림 뒤에 티켓이 바뀌었어도 답장을 보냅니다",
        "                             (쓰지 않으면 답장이 보류됩니다)",
        "#help                        이 목록",
    )
)


def help_text(language: str) -> str:
    """The command list in ``language`` (English for an unknown one)."""
    return KOREAN_HELP if language == "ko" else HELP_TEXT
