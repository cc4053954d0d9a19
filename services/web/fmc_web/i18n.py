"""Korean and English: the person's language from their choice (a cookie) or Accept-Language.

Every message has both languages (a test checks it). A problem from a service is shown with the
message for its ``code`` in the person's language, and the code itself is kept on the page for support.
"""

from __future__ import annotations

from enum import StrEnum


class Lang(StrEnum):
    KO = "ko"
    EN = "en"


DEFAULT = Lang.KO

MESSAGES: dict[str, dict[Lang, str]] = {
    "site.name": {Lang.EN: "National AI model evaluation", Lang.KO: "독자 AI 파운데이션 모델 평가"},
    "nav.home": {Lang.EN: "Home", Lang.KO: "처음"},
    "nav.arena": {Lang.EN: "Arena", Lang.KO: "아레나"},
    "nav.results": {Lang.EN: "Results", Lang.KO: "결과"},
    "nav.console": {Lang.EN: "Console", Lang.KO: "운영 콘솔"},
    "nav.signin": {Lang.EN: "Sign in", Lang.KO: "로그인"},
    "nav.signout": {Lang.EN: "Sign out", Lang.KO: "로그아웃"},
    "nav.language": {Lang.EN: "Language", Lang.KO: "언어"},
    "nav.switch": {Lang.EN: "한국어", Lang.KO: "English"},
    "nav.signed_in_as": {Lang.EN: "Signed in as {subject} ({role})", Lang.KO: "{subject} ({role}) 로그인됨"},
    "home.title": {Lang.EN: "Evaluate and verify the models", Lang.KO: "모델을 평가하고 검증하세요"},
    "home.lead": {
        Lang.EN: "Compare two anonymous models in the arena, and see who advanced in each stage and why.",
        Lang.KO: "아레나에서 익명의 두 모델을 비교하고, 단계별로 어느 팀이 왜 진출했는지 확인하세요.",
    },
    "arena.title": {Lang.EN: "Arena", Lang.KO: "아레나"},
    "arena.choose_stage": {
        Lang.EN: "Stages open for comparison",
        Lang.KO: "비교할 수 있는 단계",
    },
    "arena.none_open": {
        Lang.EN: "No stage is being evaluated now.",
        Lang.KO: "지금 평가 중인 단계가 없습니다.",
    },
    "arena.signin_needed": {
        Lang.EN: "Sign in as a registered field user to compare models.",
        Lang.KO: "모델을 비교하려면 등록된 현장 사용자로 로그인하세요.",
    },
    "arena.prompt": {Lang.EN: "Your question", Lang.KO: "질문"},
    "arena.prompt_help": {
        Lang.EN: "Do not name a team, a company or a model: such a vote is not counted.",
        Lang.KO: "팀, 회사, 모델 이름을 쓰지 마세요. 이름을 쓴 투표는 반영되지 않습니다.",
    },
    "arena.ask": {Lang.EN: "Ask both models", Lang.KO: "두 모델에게 묻기"},
    "arena.answer_a": {Lang.EN: "Answer A", Lang.KO: "답변 A"},
    "arena.answer_b": {Lang.EN: "Answer B", Lang.KO: "답변 B"},
    "arena.streaming": {Lang.EN: "The models are answering…", Lang.KO: "모델이 답변하는 중…"},
    "arena.interrupted": {
        Lang.EN: "The answers were interrupted. Please ask again.",
        Lang.KO: "답변이 중단되었습니다. 다시 질문하세요.",
    },
    "arena.vote_legend": {Lang.EN: "Which answer is better?", Lang.KO: "어느 답변이 더 낫습니까?"},
    "arena.vote.a": {Lang.EN: "A is better", Lang.KO: "A가 낫다"},
    "arena.vote.b": {Lang.EN: "B is better", Lang.KO: "B가 낫다"},
    "arena.vote.tie": {Lang.EN: "Tie", Lang.KO: "비슷하다"},
    "arena.vote.both-bad": {Lang.EN: "Both are bad", Lang.KO: "둘 다 나쁘다"},
    "arena.revealed": {Lang.EN: "Thank you. The answers came from:", Lang.KO: "감사합니다. 답변한 모델:"},
    "arena.your_vote": {Lang.EN: "Your vote: {choice}", Lang.KO: "내 투표: {choice}"},
    "arena.counted": {Lang.EN: "Your vote counts.", Lang.KO: "투표가 반영되었습니다."},
    "arena.discard.prompt-identification": {
        Lang.EN: "Your vote was kept but does not count: your question named one of the two models ({kind}).",
        Lang.KO: "투표는 기록되었지만 반영되지 않습니다. 질문에 두 모델 중 하나의 이름({kind})이 있었습니다.",
    },
    "arena.discard.self-identification": {
        Lang.EN: "Your vote was kept but does not count: an answer named its own maker ({kind}).",
        Lang.KO: "투표는 기록되었지만 반영되지 않습니다. 답변이 자기 이름({kind})을 밝혔습니다.",
    },
    "arena.again": {Lang.EN: "Compare again", Lang.KO: "다시 비교하기"},
    "arena.no_js": {
        Lang.EN: "Without JavaScript the answers appear when both are complete.",
        Lang.KO: "자바스크립트 없이도 두 답변이 모두 끝나면 표시됩니다.",
    },
    # The anonymous public arena (operators' switch per stage) and the live pages.
    "arena.public_open": {
        Lang.EN: "open to everyone, no sign-in",
        Lang.KO: "누구나 참여 가능, 로그인 불필요",
    },
    "arena.public_closed": {Lang.EN: "sign-in needed", Lang.KO: "로그인 필요"},
    "arena.anonymous_note": {
        Lang.EN: "You are comparing without signing in. Anonymous votes are counted separately from "
        "registered field users' votes, with a daily limit.",
        Lang.KO: "로그인하지 않고 비교하고 있습니다. 익명 투표는 등록된 현장 사용자의 투표와 따로 집계되며, "
        "하루 투표 한도가 있습니다.",
    },
    "problem.arena-not-public": {
        Lang.EN: "This stage's arena is open to registered field users only. Please sign in to compare.",
        Lang.KO: "이 단계의 아레나는 등록된 현장 사용자만 참여할 수 있습니다. 로그인한 뒤 비교하세요.",
    },
    "problem.anonymous-rate-limited": {
        Lang.EN: "Too many comparisons from your network in the last minute ({limit} at most). "
        "Please wait a moment, or sign in.",
        Lang.KO: "지난 1분 동안 같은 네트워크에서 비교가 너무 많았습니다(최대 {limit}회). "
        "잠시 기다리거나 로그인하세요.",
    },
    "console.arena": {Lang.EN: "Public arena", Lang.KO: "공개 아레나"},
    "console.arena_on": {
        Lang.EN: "Open to everyone: people may compare and vote without signing in.",
        Lang.KO: "공개 중: 로그인하지 않은 사람도 비교하고 투표할 수 있습니다.",
    },
    "console.arena_off": {
        Lang.EN: "Registered field users only (anonymous voting is off).",
        Lang.KO: "등록된 현장 사용자만 참여 (익명 투표 꺼짐).",
    },
    "console.arena_switch_on": {Lang.EN: "Open the arena to everyone", Lang.KO: "아레나를 모두에게 공개"},
    "console.arena_switch_off": {Lang.EN: "Close the arena to anonymous voters", Lang.KO: "익명 투표 닫기"},
    "console.arena_reason": {Lang.EN: "Reason (kept in the audit trail)", Lang.KO: "사유 (감사 기록에 남음)"},
    "console.arena_switched": {
        Lang.EN: "The public arena setting was saved.",
        Lang.KO: "공개 아레나 설정을 저장했습니다.",
    },
    "live.note": {
        Lang.EN: "This part of the page updates itself.",
        Lang.KO: "이 부분은 자동으로 새로 고쳐집니다.",
    },
    "results.title": {Lang.EN: "Results", Lang.KO: "평가 결과"},
    "results.programmes": {Lang.EN: "Programmes and stages", Lang.KO: "사업과 단계"},
    "results.stage": {Lang.EN: "Stage {number}: {name}", Lang.KO: "{number}차 단계: {name}"},
    "results.status": {Lang.EN: "Status", Lang.KO: "상태"},
    "results.not_published": {
        Lang.EN: "The result of this stage has not been published.",
        Lang.KO: "이 단계의 결과는 아직 발표되지 않았습니다.",
    },
    "status.draft": {Lang.EN: "in preparation", Lang.KO: "준비 중"},
    "status.open-for-submissions": {Lang.EN: "open for submissions", Lang.KO: "모델 제출 중"},
    "status.evaluating": {Lang.EN: "being evaluated", Lang.KO: "평가 중"},
    "status.results-published": {Lang.EN: "results published", Lang.KO: "결과 발표"},
    "status.final": {Lang.EN: "final", Lang.KO: "확정"},
    "status.reopened": {Lang.EN: "reopened for a correction", Lang.KO: "정정을 위해 재개"},
    "results.team": {Lang.EN: "Team", Lang.KO: "팀"},
    "results.outcome": {Lang.EN: "Outcome", Lang.KO: "결과"},
    "results.reason": {Lang.EN: "Reason", Lang.KO: "사유"},
    "results.advanced": {Lang.EN: "Advanced", Lang.KO: "진출"},
    "results.eliminated": {Lang.EN: "Eliminated", Lang.KO: "탈락"},
    "results.reason.benchmark-threshold": {
        Lang.EN: "Below the benchmark threshold",
        Lang.KO: "벤치마크 기준 미달",
    },
    "results.reason.originality": {
        Lang.EN: "Did not meet the originality standard",
        Lang.KO: "독자성 기준 미충족",
    },
    "results.reason.rank": {
        Lang.EN: "Not among the teams selected to advance",
        Lang.KO: "진출 팀으로 선정되지 않음",
    },
    "results.final": {Lang.EN: "Final", Lang.KO: "확정"},
    "results.not_final": {
        Lang.EN: "Not final: objections may still be filed or decided",
        Lang.KO: "미확정: 이의 신청 기간 중이거나 심사 중",
    },
    "results.correction": {
        Lang.EN: "Correction: this result replaces an earlier announcement ({correction}).",
        Lang.KO: "정정: 이 결과는 이전 발표를 대체합니다 ({correction}).",
    },
    "results.correction.re-evaluation": {Lang.EN: "re-evaluation", Lang.KO: "재평가"},
    "results.correction.reopening": {Lang.EN: "reopening", Lang.KO: "재개"},
    "results.correction.revision": {Lang.EN: "revision", Lang.KO: "수정"},
    "results.objection_window": {Lang.EN: "Objection window", Lang.KO: "이의 신청 기간"},
    "results.objection_deadline": {
        Lang.EN: "Objections within {days} days of notification; as scheduled, until {deadline} (Korea time)",
        Lang.KO: "통보 후 {days}일 이내, 일정상 {deadline}까지 (한국 시간)",
    },
    "results.notification": {Lang.EN: "Notification (as scheduled)", Lang.KO: "통보일 (일정)"},
    "results.no_scores": {
        Lang.EN: "Scores and ranks are not disclosed.",
        Lang.KO: "점수와 순위는 공개하지 않습니다.",
    },
    "console.title": {Lang.EN: "Operator console", Lang.KO: "운영 콘솔"},
    "console.outcome.advance": {Lang.EN: "advances", Lang.KO: "진출"},
    "console.outcome.eliminate": {Lang.EN: "eliminated", Lang.KO: "탈락"},
    "console.board": {Lang.EN: "Runs and originality", Lang.KO: "실행 및 독자성 검사"},
    "console.runs": {Lang.EN: "Benchmark runs", Lang.KO: "벤치마크 실행"},
    "console.runs_done": {Lang.EN: "{done} of {total} done", Lang.KO: "{total}개 중 {done}개 완료"},
    "console.runs_failed": {Lang.EN: "{failed} failed", Lang.KO: "{failed}개 실패"},
    "console.originality": {Lang.EN: "Originality check", Lang.KO: "독자성 검사"},
    "console.not_checked": {Lang.EN: "not checked yet", Lang.KO: "검사 전"},
    "verdict.original": {Lang.EN: "original", Lang.KO: "독자 개발"},
    "verdict.reused": {Lang.EN: "reused weights", Lang.KO: "가중치 재사용"},
    "verdict.needs-review": {Lang.EN: "needs review", Lang.KO: "검토 필요"},
    "console.stage": {Lang.EN: "Stage", Lang.KO: "단계"},
    "console.stages": {Lang.EN: "Stage board", Lang.KO: "단계 현황"},
    "console.versions": {Lang.EN: "Result versions", Lang.KO: "결과 버전"},
    "console.version": {Lang.EN: "Version {version}: {status}", Lang.KO: "버전 {version}: {status}"},
    "console.blocking": {Lang.EN: "Blocking approval", Lang.KO: "승인 차단 사유"},
    "console.propose": {Lang.EN: "Propose a result", Lang.KO: "결과 제안"},
    "console.approve": {
        Lang.EN: "Approve and publish version {version}",
        Lang.KO: "버전 {version} 승인 및 발표",
    },
    "console.approved": {
        Lang.EN: "Version {version} approved and published.",
        Lang.KO: "버전 {version}이 승인되어 발표되었습니다.",
    },
    "console.none": {Lang.EN: "No result proposed yet.", Lang.KO: "제안된 결과가 없습니다."},
    "console.proposed_outcome": {Lang.EN: "Proposed outcome", Lang.KO: "제안된 결과"},
    # issue 22: health, decision preview, objection queue, additional selection (console_ops.py)
    "console.back": {Lang.EN: "Back to the stage", Lang.KO: "단계로 돌아가기"},
    "console.health": {Lang.EN: "Messaging health", Lang.KO: "메시지 처리 상태"},
    "console.health.service": {Lang.EN: "Service", Lang.KO: "서비스"},
    "console.health.backlog": {Lang.EN: "Outbox backlog", Lang.KO: "미발행 이벤트"},
    "console.health.dead_letters": {Lang.EN: "Dead letters", Lang.KO: "처리 실패 메시지"},
    "console.health.consumers": {Lang.EN: "Consumers", Lang.KO: "소비자"},
    "console.health.unsent": {Lang.EN: "{count} not yet published", Lang.KO: "{count}건 발행 대기"},
    "console.health.oldest": {Lang.EN: "oldest since {at}", Lang.KO: "가장 오래된 것 {at}부터"},
    "console.health.running": {Lang.EN: "running", Lang.KO: "실행 중"},
    "console.health.down": {Lang.EN: "down", Lang.KO: "중단됨"},
    "console.health.lag": {Lang.EN: "{lag} behind", Lang.KO: "{lag}건 지연"},
    "console.health.no_consumers": {Lang.EN: "none in this process", Lang.KO: "이 프로세스에 없음"},
    "console.health.unreachable": {
        Lang.EN: "The service did not answer.",
        Lang.KO: "서비스가 응답하지 않았습니다.",
    },
    "console.preview": {Lang.EN: "Decision preview", Lang.KO: "결정 미리보기"},
    "console.preview.open": {
        Lang.EN: "Decision preview of version {version}",
        Lang.KO: "버전 {version} 결정 미리보기",
    },
    "console.preview.advancing": {
        Lang.EN: "{advancing} advancing of {planned} planned",
        Lang.KO: "계획 {planned}팀 중 {advancing}팀 진출",
    },
    "console.preview.overall_threshold": {
        Lang.EN: "Overall benchmark threshold",
        Lang.KO: "벤치마크 종합 기준",
    },
    "console.preview.none": {Lang.EN: "none", Lang.KO: "없음"},
    "console.preview.rank": {Lang.EN: "Rank", Lang.KO: "순위"},
    "console.preview.composite": {Lang.EN: "Composite", Lang.KO: "종합 점수"},
    "console.preview.benchmark": {Lang.EN: "Benchmark accuracy", Lang.KO: "벤치마크 정확도"},
    "console.preview.suites": {Lang.EN: "Suites (95% interval)", Lang.KO: "평가 세트 (95% 구간)"},
    "console.preview.minimum": {Lang.EN: "minimum {minimum}", Lang.KO: "최소 {minimum}"},
    "console.preview.below": {Lang.EN: "below the minimum", Lang.KO: "최소 기준 미달"},
    "console.preview.objections": {Lang.EN: "Open objections", Lang.KO: "진행 중인 이의신청"},
    # Written feedback to each team on the version (decision: written-feedback-per-result-version).
    "console.feedback": {Lang.EN: "Written feedback to the teams", Lang.KO: "팀별 서면 의견"},
    "console.feedback.none": {Lang.EN: "Nothing written yet.", Lang.KO: "아직 작성된 의견이 없습니다."},
    "console.feedback.revision": {
        Lang.EN: "Revision {revision}, written {written}",
        Lang.KO: "{revision}차 수정본, 작성 {written}",
    },
    "console.feedback.seen": {
        Lang.EN: "This version is published: the team sees this feedback.",
        Lang.KO: "이 버전은 공개되었습니다. 팀이 이 의견을 볼 수 있습니다.",
    },
    "console.feedback.unseen": {
        Lang.EN: "The team sees it only once this version is published.",
        Lang.KO: "이 버전이 공개되어야 팀이 볼 수 있습니다.",
    },
    "console.feedback.text": {
        Lang.EN: "Feedback to {team} (plain text, up to 20,000 characters)",
        Lang.KO: "{team} 팀에 대한 의견 (일반 텍스트, 최대 20,000자)",
    },
    "console.feedback.write": {Lang.EN: "Write the feedback", Lang.KO: "의견 작성"},
    "console.feedback.revise": {Lang.EN: "Save a new revision", Lang.KO: "새 수정본 저장"},
    "console.feedback.written": {
        Lang.EN: "The feedback is saved as a new revision.",
        Lang.KO: "의견을 새 수정본으로 저장했습니다.",
    },
    "console.feedback.unchanged": {
        Lang.EN: "The text is unchanged: no new revision was added.",
        Lang.KO: "내용이 바뀌지 않아 새 수정본을 만들지 않았습니다.",
    },
    "console.gate.pass": {Lang.EN: "threshold met", Lang.KO: "기준 충족"},
    "console.gate.fail": {Lang.EN: "below the threshold", Lang.KO: "기준 미달"},
    "console.gate.pending": {Lang.EN: "not yet known", Lang.KO: "미확정"},
    "console.objections": {Lang.EN: "Objection review", Lang.KO: "이의신청 심사"},
    "console.objections.none": {
        Lang.EN: "No objection of this stage awaits a decision.",
        Lang.KO: "이 단계에 심사를 기다리는 이의신청이 없습니다.",
    },
    "console.objections.status": {Lang.EN: "Status", Lang.KO: "상태"},
    "console.objections.filed": {Lang.EN: "filed {filed}", Lang.KO: "접수 {filed}"},
    "console.objections.review": {Lang.EN: "Start the review", Lang.KO: "심사 시작"},
    "console.objections.decide": {Lang.EN: "Decide", Lang.KO: "결정"},
    "console.objections.reason": {
        Lang.EN: "Written reason (sent to the team, at least 10 characters)",
        Lang.KO: "결정 사유 (팀에 전달, 10자 이상)",
    },
    "console.objections.concerns": {
        Lang.EN: "If accepted, what to re-evaluate (empty: the grounds' default)",
        Lang.KO: "인용 시 재평가 대상 (비우면 신청 사유에 따른 기본값)",
    },
    "console.objections.submit": {Lang.EN: "Record the decision", Lang.KO: "결정 기록"},
    "console.objections.done.review": {Lang.EN: "The review has started.", Lang.KO: "심사를 시작했습니다."},
    "console.objections.done.accepted": {
        Lang.EN: "The objection was accepted.",
        Lang.KO: "이의신청을 인용했습니다.",
    },
    "console.objections.done.rejected": {
        Lang.EN: "The objection was rejected.",
        Lang.KO: "이의신청을 기각했습니다.",
    },
    "console.concern.benchmark-suite": {Lang.EN: "benchmark suites", Lang.KO: "벤치마크 평가"},
    "console.concern.expert-panel": {Lang.EN: "expert panel", Lang.KO: "전문가 평가"},
    "console.concern.originality": {Lang.EN: "originality", Lang.KO: "독자성"},
    "console.concern.process": {Lang.EN: "the process", Lang.KO: "절차"},
    "console.selection": {Lang.EN: "Additional selection", Lang.KO: "추가 선발"},
    "console.selection.none": {
        Lang.EN: "No additional-selection call for this stage: the registry opens one when the stage "
        "is final with fewer teams advancing than planned.",
        Lang.KO: "이 단계의 추가 선발 공고가 없습니다. 단계가 확정되고 진출 팀이 계획보다 적으면 "
        "등록 서비스가 공고를 엽니다.",
    },
    "console.selection.call": {
        Lang.EN: "Call for {vacancies} vacancies: {status}",
        Lang.KO: "결원 {vacancies}팀 추가 선발 공고: {status}",
    },
    "console.selection.status.open": {Lang.EN: "open", Lang.KO: "진행 중"},
    "console.selection.status.closed": {Lang.EN: "closed", Lang.KO: "마감"},
    "console.selection.opened": {Lang.EN: "Opened {opened}", Lang.KO: "공고 {opened}"},
    "console.selection.closed": {Lang.EN: "closed {closed}", Lang.KO: "마감 {closed}"},
    "console.selection.eligible": {Lang.EN: "Eligible when the call opened", Lang.KO: "공고 시 지원 자격 팀"},
    "console.selection.others": {
        Lang.EN: "The programme's other applicants may apply too (earlier or new applicants).",
        Lang.KO: "프로그램의 다른 신청 팀도 지원할 수 있습니다 (기존 또는 신규 신청).",
    },
    "console.selection.applications": {Lang.EN: "Applications", Lang.KO: "지원 현황"},
    "console.selection.no_applications": {Lang.EN: "No application yet.", Lang.KO: "아직 지원이 없습니다."},
    "console.selection.selected": {Lang.EN: "selected", Lang.KO: "선발됨"},
    "console.selection.apply": {
        Lang.EN: "Record an application on a team's behalf",
        Lang.KO: "팀을 대신하여 지원 등록",
    },
    "console.selection.apply_submit": {Lang.EN: "Record the application", Lang.KO: "지원 등록"},
    "console.selection.select": {Lang.EN: "Select a team", Lang.KO: "팀 선발"},
    "console.selection.reason": {Lang.EN: "Reason (audited)", Lang.KO: "사유 (감사 기록)"},
    "console.selection.select_submit": {Lang.EN: "Select", Lang.KO: "선발"},
    "console.selection.done.applied": {
        Lang.EN: "The application is recorded.",
        Lang.KO: "지원이 등록되었습니다.",
    },
    "console.selection.done.selected": {Lang.EN: "The team is selected.", Lang.KO: "팀이 선발되었습니다."},
    "console.basis.eliminated-in-stage": {Lang.EN: "eliminated in the stage", Lang.KO: "해당 단계 탈락"},
    "console.basis.preliminary-review": {Lang.EN: "preliminary review", Lang.KO: "사전 검토 참여"},
    "console.basis.earlier-applicant": {Lang.EN: "earlier applicant", Lang.KO: "기존 신청"},
    "console.basis.new-applicant": {Lang.EN: "new applicant", Lang.KO: "신규 신청"},
    "nav.team": {Lang.EN: "Team portal", Lang.KO: "팀 포털"},
    "team.title": {Lang.EN: "Team portal", Lang.KO: "팀 포털"},
    "team.submissions": {Lang.EN: "Submissions", Lang.KO: "제출한 모델"},
    "team.submission": {
        Lang.EN: "Stage {stage}: version {version}, registered {registered}",
        Lang.KO: "{stage}차 단계: 버전 {version}, 등록 {registered}",
    },
    "team.frozen": {Lang.EN: "frozen for evaluation", Lang.KO: "평가를 위해 고정됨"},
    "team.no_submissions": {Lang.EN: "No submission yet.", Lang.KO: "제출한 모델이 없습니다."},
    "team.notifications": {Lang.EN: "Notifications and objection windows", Lang.KO: "통보와 이의 신청 기간"},
    "team.no_notifications": {Lang.EN: "No notification yet.", Lang.KO: "받은 통보가 없습니다."},
    "team.notified": {
        Lang.EN: "Stage {stage}: {outcome}",
        Lang.KO: "{stage}차 단계: {outcome}",
    },
    "team.deadline": {
        Lang.EN: "Objections until {deadline} (Korea time)",
        Lang.KO: "이의 신청 마감: {deadline} (한국 시간)",
    },
    "team.countdown": {
        Lang.EN: "{days} days {hours} hours {minutes} minutes left",
        Lang.KO: "{days}일 {hours}시간 {minutes}분 남음",
    },
    "team.closed": {Lang.EN: "The objection window has closed.", Lang.KO: "이의 신청 기간이 끝났습니다."},
    "team.file": {Lang.EN: "File an objection", Lang.KO: "이의 신청"},
    "team.grounds": {Lang.EN: "Grounds", Lang.KO: "사유 구분"},
    "team.grounds.process-defect": {
        Lang.EN: "A defect in the evaluation process",
        Lang.KO: "평가 절차의 하자",
    },
    "team.grounds.scoring-error": {Lang.EN: "A scoring error", Lang.KO: "채점 오류"},
    "team.grounds.originality-judgement": {Lang.EN: "The originality judgement", Lang.KO: "독자성 판단"},
    "team.grounds.other": {Lang.EN: "Other", Lang.KO: "기타"},
    "team.statement": {Lang.EN: "Statement", Lang.KO: "신청 내용"},
    "team.attachment": {Lang.EN: "Attachment (optional)", Lang.KO: "첨부 파일 (선택)"},
    "team.submit": {Lang.EN: "File the objection", Lang.KO: "이의 신청서 제출"},
    "team.objections": {Lang.EN: "Objections", Lang.KO: "이의 신청 현황"},
    "team.objection": {Lang.EN: "Filed {filed}: {status}", Lang.KO: "{filed} 신청: {status}"},
    "team.filed": {Lang.EN: "Your objection was filed.", Lang.KO: "이의 신청이 접수되었습니다."},
    "objection.received": {Lang.EN: "received", Lang.KO: "접수"},
    "objection.under-review": {Lang.EN: "under review", Lang.KO: "심사 중"},
    "objection.accepted": {Lang.EN: "accepted", Lang.KO: "인용"},
    "objection.rejected": {Lang.EN: "rejected", Lang.KO: "기각"},
    "objection.withdrawn": {Lang.EN: "withdrawn", Lang.KO: "취하"},
    "team.no_objections": {Lang.EN: "No objection filed.", Lang.KO: "신청한 이의가 없습니다."},
    # The team portal's runs, results, feedback, notifications and objections followed (issue 22).
    "team.runs": {Lang.EN: "Benchmark runs", Lang.KO: "벤치마크 실행"},
    "team.runs_stage": {Lang.EN: "stage {stage}", Lang.KO: "{stage}차 단계"},
    "team.runs_caption": {
        Lang.EN: "Your model's runs: items answered of planned (updated while they run)",
        Lang.KO: "우리 팀 모델의 실행: 계획된 문항 중 답한 문항 (실행 중에는 자동으로 갱신)",
    },
    "team.no_runs": {Lang.EN: "No run yet.", Lang.KO: "아직 실행이 없습니다."},
    "team.runs_unavailable": {
        Lang.EN: "The runs' progress cannot be read just now; it is asked again in a few seconds.",
        Lang.KO: "지금은 실행 진행 상황을 읽을 수 없습니다. 잠시 후 다시 확인합니다.",
    },
    "team.run_suite": {Lang.EN: "Suite", Lang.KO: "평가 세트"},
    "team.run_progress": {Lang.EN: "Progress", Lang.KO: "진행"},
    "team.run_failed": {Lang.EN: "Failed items", Lang.KO: "실패한 문항"},
    "team.run_status": {Lang.EN: "Status", Lang.KO: "상태"},
    "team.run_done": {Lang.EN: "{done} of {total} items", Lang.KO: "{total}문항 중 {done}문항"},
    "team.run_errored": {Lang.EN: "{errored} failed", Lang.KO: "{errored}개 실패"},
    "team.run.pending": {Lang.EN: "waiting to start", Lang.KO: "시작 대기"},
    "team.run.running": {Lang.EN: "running", Lang.KO: "실행 중"},
    "team.run.waiting": {Lang.EN: "paused (waiting on the endpoint)", Lang.KO: "일시 중지 (엔드포인트 대기)"},
    "team.run.completed": {Lang.EN: "completed", Lang.KO: "완료"},
    "team.run.failed": {Lang.EN: "failed", Lang.KO: "실패"},
    "team.results": {Lang.EN: "Your results and feedback", Lang.KO: "우리 팀 결과와 의견"},
    "team.no_results": {
        Lang.EN: "Nothing published yet: your result appears here once it is published.",
        Lang.KO: "아직 발표된 결과가 없습니다. 발표되면 여기에 표시됩니다.",
    },
    "team.result_stage": {
        Lang.EN: "Stage {stage} (result version {version})",
        Lang.KO: "{stage}차 단계 (결과 버전 {version})",
    },
    "team.outcome.advance": {Lang.EN: "Advanced", Lang.KO: "진출"},
    "team.outcome.eliminate": {Lang.EN: "Eliminated", Lang.KO: "탈락"},
    "team.outcome.pending": {Lang.EN: "Pending", Lang.KO: "보류"},
    "team.outcome.advanced": {Lang.EN: "Advanced", Lang.KO: "진출"},
    "team.outcome.eliminated": {Lang.EN: "Eliminated", Lang.KO: "탈락"},
    "team.outcome.selected": {Lang.EN: "Selected", Lang.KO: "선정"},
    "team.outcome.not-selected": {Lang.EN: "Not selected", Lang.KO: "미선정"},
    "team.figures_caption": {
        Lang.EN: "Your own benchmark results per suite (only your team sees them)",
        Lang.KO: "평가 세트별 우리 팀 벤치마크 결과 (우리 팀만 볼 수 있음)",
    },
    "team.figure_accuracy": {Lang.EN: "Accuracy", Lang.KO: "정확도"},
    "team.figure_interval": {Lang.EN: "95% interval", Lang.KO: "95% 구간"},
    "team.figure_items": {Lang.EN: "Items", Lang.KO: "문항"},
    "team.figure_items_of": {
        Lang.EN: "{items} ({errored} failed)",
        Lang.KO: "{items}문항 ({errored}개 실패)",
    },
    "team.part.benchmark": {Lang.EN: "Benchmark part (0-100)", Lang.KO: "벤치마크 점수 (0-100)"},
    "team.part.expert": {Lang.EN: "Expert panel part (0-100)", Lang.KO: "전문가 평가 점수 (0-100)"},
    "team.part.user": {Lang.EN: "User evaluation part (0-100)", Lang.KO: "사용자 평가 점수 (0-100)"},
    "team.part.composite": {Lang.EN: "Composite (0-100)", Lang.KO: "종합 점수 (0-100)"},
    "team.feedback": {Lang.EN: "Written feedback", Lang.KO: "서면 의견"},
    "team.feedback_on": {
        Lang.EN: "On result version {version}, written {written}",
        Lang.KO: "결과 버전 {version}에 대한 의견, {written} 작성",
    },
    "team.no_feedback": {Lang.EN: "No written feedback.", Lang.KO: "서면 의견이 없습니다."},
    "team.notified_at": {
        Lang.EN: "Notified {at} (round {round})",
        Lang.KO: "{at} 통보 ({round}차)",
    },
    "team.selection_decision": {Lang.EN: "additional selection", Lang.KO: "추가 선정"},
    "team.superseded": {
        Lang.EN: "Replaced by a later notification.",
        Lang.KO: "이후 통보로 대체되었습니다.",
    },
    "team.objection_title": {Lang.EN: "Your objection", Lang.KO: "이의 신청"},
    "team.back": {Lang.EN: "Back to the team portal", Lang.KO: "팀 포털로 돌아가기"},
    "team.objection_state": {Lang.EN: "Where it stands", Lang.KO: "처리 상태"},
    "team.objection_decision.stage-result": {
        Lang.EN: "Against a stage result",
        Lang.KO: "단계 결과에 대한 이의",
    },
    "team.objection_decision.selection-decision": {
        Lang.EN: "Against an additional-selection decision",
        Lang.KO: "추가 선정 결정에 대한 이의",
    },
    "team.objection_version": {Lang.EN: "version {version}", Lang.KO: "버전 {version}"},
    "team.resolution": {
        Lang.EN: "Concluded {at} ({outcome}), with this reason:",
        Lang.KO: "{at} {outcome} 처리, 사유:",
    },
    "team.versions": {Lang.EN: "Versions", Lang.KO: "신청서 버전"},
    "team.version_head": {
        Lang.EN: "Version {version}, {at}: {grounds}",
        Lang.KO: "버전 {version}, {at}: {grounds}",
    },
    "team.bytes": {Lang.EN: "{size} bytes", Lang.KO: "{size}바이트"},
    "team.history": {Lang.EN: "History", Lang.KO: "처리 이력"},
    "team.history.objection.filed": {Lang.EN: "filed", Lang.KO: "접수"},
    "team.history.objection.amended": {Lang.EN: "amended", Lang.KO: "보정"},
    "team.history.objection.review-started": {Lang.EN: "review started", Lang.KO: "심사 시작"},
    "team.history.objection.accepted": {Lang.EN: "accepted", Lang.KO: "인용"},
    "team.history.objection.rejected": {Lang.EN: "rejected", Lang.KO: "기각"},
    "team.history.objection.withdrawn": {Lang.EN: "withdrawn", Lang.KO: "취하"},
    "team.amend": {Lang.EN: "Amend the objection", Lang.KO: "이의 신청 보정"},
    "team.keep": {Lang.EN: "Attachments to keep", Lang.KO: "유지할 첨부 파일"},
    "team.amend_submit": {Lang.EN: "Save the new version", Lang.KO: "새 버전 저장"},
    "team.withdraw": {Lang.EN: "Withdraw the objection", Lang.KO: "이의 신청 취하"},
    "team.withdraw_reason": {
        Lang.EN: "Reason for withdrawing (at least 10 characters)",
        Lang.KO: "취하 사유 (10자 이상)",
    },
    "team.withdraw_submit": {Lang.EN: "Withdraw", Lang.KO: "취하"},
    "team.changed.amended": {Lang.EN: "The new version was saved.", Lang.KO: "새 버전이 저장되었습니다."},
    "team.changed.withdrawn": {
        Lang.EN: "The objection was withdrawn.",
        Lang.KO: "이의 신청이 취하되었습니다.",
    },
    "problem.illegal-objection-transition": {
        Lang.EN: "The objection can no longer be changed: it has been decided or withdrawn.",
        Lang.KO: "이미 결정되었거나 취하된 이의 신청은 변경할 수 없습니다.",
    },
    "problem.idempotency-key-reused": {
        Lang.EN: "This form was already sent with other content: reload the page and try again.",
        Lang.KO: "이 양식은 다른 내용으로 이미 제출되었습니다. 페이지를 새로 고친 뒤 다시 시도하세요.",
    },
    "panel.title": {Lang.EN: "Expert evaluation", Lang.KO: "전문가 평가"},
    "panel.deadline": {
        Lang.EN: "Scores and amendments until {deadline}",
        Lang.KO: "점수 입력 및 수정 마감: {deadline}",
    },
    "panel.closed": {Lang.EN: "The panel has closed.", Lang.KO: "평가가 마감되었습니다."},
    "panel.blind": {
        Lang.EN: "The models are shown without their teams, in an order of your own.",
        Lang.KO: "모델은 팀 이름 없이, 평가자마다 다른 순서로 표시됩니다.",
    },
    "panel.progress": {
        Lang.EN: "{scored} of {total} models scored",
        Lang.KO: "{total}개 중 {scored}개 모델 평가 완료",
    },
    "panel.model": {Lang.EN: "Model {number}", Lang.KO: "모델 {number}"},
    "panel.technical_originality": {Lang.EN: "Technical originality (0-100)", Lang.KO: "기술 독창성 (0-100)"},
    "panel.technological_capability": {
        Lang.EN: "Technological capability (0-100)",
        Lang.KO: "기술 역량 (0-100)",
    },
    "panel.readiness": {Lang.EN: "Readiness for what comes next (0-100)", Lang.KO: "후속 준비도 (0-100)"},
    "panel.comment": {Lang.EN: "Comment", Lang.KO: "의견"},
    "panel.submit": {Lang.EN: "Submit the score", Lang.KO: "점수 제출"},
    "panel.given": {
        Lang.EN: "Your score: originality {o}, capability {c}, readiness {r}",
        Lang.KO: "내 점수: 독창성 {o}, 역량 {c}, 준비도 {r}",
    },
    "panel.amended": {Lang.EN: "amended {count} time(s)", Lang.KO: "{count}회 수정됨"},
    "panel.amend": {Lang.EN: "Amend this score", Lang.KO: "점수 수정"},
    "panel.reason": {Lang.EN: "Reason for the amendment", Lang.KO: "수정 사유"},
    "panel.amend_submit": {Lang.EN: "Save the amendment", Lang.KO: "수정 저장"},
    "panel.saved": {Lang.EN: "Saved for model {number}.", Lang.KO: "모델 {number}의 점수를 저장했습니다."},
    # -- expert evaluation: sampled responses and conflicts of interest (issue 22) --
    "panel.responses": {
        Lang.EN: "Read a sample of its answers ({count} questions)",
        Lang.KO: "답변 표본 보기 (질문 {count}개)",
    },
    "panel.item": {
        Lang.EN: "Item {position} ({suite}), the same for every model",
        Lang.KO: "문항 {position} ({suite}), 모든 모델에 같은 문항",
    },
    "panel.prompt": {Lang.EN: "Question", Lang.KO: "질문"},
    "panel.response": {Lang.EN: "The model's answer", Lang.KO: "모델의 답변"},
    "panel.no_response": {Lang.EN: "No answer was recorded.", Lang.KO: "기록된 답변이 없습니다."},
    "panel.no_sample": {
        Lang.EN: "No answers of this model are available yet.",
        Lang.KO: "이 모델의 답변이 아직 없습니다.",
    },
    "panel.truncated": {Lang.EN: "[shortened]", Lang.KO: "[일부 생략]"},
    "panel.excluded": {
        Lang.EN: "{count} model(s) are not yours to score because of a conflict of interest.",
        Lang.KO: "이해 충돌로 평가하지 않는 모델: {count}개",
    },
    "panel.conflict.declared": {
        Lang.EN: "A conflict of interest with this model is declared: it is not yours to score.",
        Lang.KO: "이 모델과의 이해 충돌이 신고되어 평가하지 않습니다.",
    },
    "panel.conflict.affiliation": {
        Lang.EN: "Your organisation is connected with this model: it is not yours to score.",
        Lang.KO: "소속 기관과 관련된 모델이므로 평가하지 않습니다.",
    },
    "panel.withdrawn": {
        Lang.EN: "Your earlier score of this model was withdrawn: it is kept but no longer counts.",
        Lang.KO: "이 모델에 준 점수는 철회되었습니다. 기록은 남지만 반영되지 않습니다.",
    },
    "panel.declare": {Lang.EN: "Declare a conflict of interest", Lang.KO: "이해 충돌 신고"},
    "panel.declare_help": {
        Lang.EN: "If you are connected with this model's team, declare it. You cannot undo this; "
        "a score you gave this model is withdrawn.",
        Lang.KO: "이 모델의 팀과 이해관계가 있으면 신고하세요. 신고는 취소할 수 없으며, "
        "이 모델에 준 점수는 철회됩니다.",
    },
    "panel.conflict_reason": {Lang.EN: "Nature of the conflict", Lang.KO: "이해 충돌 내용"},
    "panel.declare_submit": {Lang.EN: "Declare the conflict", Lang.KO: "이해 충돌 신고하기"},
    "panel.conflict_declared": {
        Lang.EN: "Conflict of interest declared for model {number}.",
        Lang.KO: "모델 {number}에 대한 이해 충돌을 신고했습니다.",
    },
    "problem.conflict-already-declared": {
        Lang.EN: "A conflict of interest with this model is already declared.",
        Lang.KO: "이 모델에 대한 이해 충돌은 이미 신고되었습니다.",
    },
    "problem.model-not-found": {
        Lang.EN: "This model is not evaluated in this stage.",
        Lang.KO: "이 단계에서 평가하는 모델이 아닙니다.",
    },
    "nav.panel": {Lang.EN: "Expert evaluation", Lang.KO: "전문가 평가"},
    "signin.title": {Lang.EN: "Sign in", Lang.KO: "로그인"},
    "error.title": {Lang.EN: "Something went wrong", Lang.KO: "문제가 발생했습니다"},
    "error.code": {
        Lang.EN: "Problem code (for support): {code}",
        Lang.KO: "문제 코드 (문의 시 알려 주세요): {code}",
    },
    "error.back": {Lang.EN: "Back to the home page", Lang.KO: "처음으로"},
    "problem.daily-vote-cap": {
        Lang.EN: "You have reached today's vote limit ({cap} votes). "
        "You can vote again tomorrow (Korea time).",
        Lang.KO: "오늘 투표 한도({cap}표)에 도달했습니다. 내일(한국 시간) 다시 투표할 수 있습니다.",
    },
    "problem.arena-not-open": {
        Lang.EN: "The arena of this stage is not open.",
        Lang.KO: "이 단계의 아레나가 열려 있지 않습니다.",
    },
    "problem.arena-busy": {
        Lang.EN: "The arena is busy. Please try again in a moment.",
        Lang.KO: "아레나가 혼잡합니다. 잠시 후 다시 시도하세요.",
    },
    "problem.arena-unavailable": {
        Lang.EN: "A model cannot answer right now. Please try again later.",
        Lang.KO: "지금은 모델이 답변할 수 없습니다. 나중에 다시 시도하세요.",
    },
    "problem.voter-rate-limited": {
        Lang.EN: "You started many comparisons in a short time. Please wait a little.",
        Lang.KO: "짧은 시간에 너무 많이 비교했습니다. 잠시 기다려 주세요.",
    },
    "problem.already-voted": {
        Lang.EN: "You have already voted on this comparison.",
        Lang.KO: "이 비교에는 이미 투표했습니다.",
    },
    "problem.battle-expired": {
        Lang.EN: "This comparison has expired. Start a new one.",
        Lang.KO: "이 비교는 만료되었습니다. 새로 시작하세요.",
    },
    "problem.unauthenticated": {
        Lang.EN: "Please sign in (again).",
        Lang.KO: "(다시) 로그인하세요.",
    },
    "problem.forbidden": {
        Lang.EN: "Your account may not do this.",
        Lang.KO: "이 계정으로는 할 수 없는 작업입니다.",
    },
    "problem.csrf-failed": {
        Lang.EN: "The form expired or did not come from this site. Reload the page and try again.",
        Lang.KO: "양식이 만료되었거나 이 사이트에서 온 것이 아닙니다. 새로 고친 뒤 다시 시도하세요.",
    },
    "problem.signin-failed": {
        Lang.EN: "Sign-in did not complete. Please try again.",
        Lang.KO: "로그인이 완료되지 않았습니다. 다시 시도하세요.",
    },
    "problem.not-found": {Lang.EN: "This page does not exist.", Lang.KO: "없는 페이지입니다."},
    "problem.service-unavailable": {
        Lang.EN: "A service is unreachable right now. Please try again later.",
        Lang.KO: "지금은 서비스에 연결할 수 없습니다. 나중에 다시 시도하세요.",
    },
    "problem.validation-failed": {
        Lang.EN: "The form is not valid: {detail}",
        Lang.KO: "입력이 올바르지 않습니다: {detail}",
    },
    "problem.result-blocked": {
        Lang.EN: "This result cannot be approved yet: questions are open.",
        Lang.KO: "아직 승인할 수 없습니다. 해결되지 않은 사항이 있습니다.",
    },
    "problem.objection-window-closed": {
        Lang.EN: "The objection window closed at the end of {deadline} (Korea time): "
        "no objection can be filed now.",
        Lang.KO: "이의 신청 기간은 {deadline} (한국 시간)에 끝났습니다. 지금은 이의를 신청할 수 없습니다.",
    },
    "problem.objection-window-not-open": {
        Lang.EN: "The objection window is not open yet.",
        Lang.KO: "이의 신청 기간이 아직 시작되지 않았습니다.",
    },
    "problem.attachment-too-large": {
        Lang.EN: "The attachment is too large: {detail}",
        Lang.KO: "첨부 파일이 너무 큽니다: {detail}",
    },
    "problem.attachment-type-not-allowed": {
        Lang.EN: "This kind of file cannot be attached: {detail}",
        Lang.KO: "이 형식의 파일은 첨부할 수 없습니다: {detail}",
    },
    "problem.conflict-of-interest": {
        Lang.EN: "You may not score this model: a conflict of interest "
        "(your affiliation or a declared conflict).",
        Lang.KO: "이해 충돌(소속 또는 신고한 이해관계)로 이 모델을 평가할 수 없습니다.",
    },
    "problem.panel-closed": {
        Lang.EN: "The panel has closed: scores can no longer be given or amended.",
        Lang.KO: "평가가 마감되어 점수를 입력하거나 수정할 수 없습니다.",
    },
    "problem.not-on-panel": {
        Lang.EN: "You are not on this stage's panel.",
        Lang.KO: "이 단계의 평가위원이 아닙니다.",
    },
    "problem.already-scored": {
        Lang.EN: "You have already scored this model: amend your score instead.",
        Lang.KO: "이미 평가한 모델입니다. 점수를 수정하세요.",
    },
    "problem.amendment-unchanged": {
        Lang.EN: "The amendment changes nothing.",
        Lang.KO: "수정된 내용이 없습니다.",
    },
    "problem.team-not-in-result": {
        Lang.EN: "This team is not in this result version.",
        Lang.KO: "이 팀은 이 결과 버전에 없습니다.",
    },
    "problem.result-not-found": {
        Lang.EN: "There is no such result version.",
        Lang.KO: "해당 결과 버전이 없습니다.",
    },
    "problem.other": {
        Lang.EN: "The request was refused: {detail}",
        Lang.KO: "요청이 거절되었습니다: {detail}",
    },
}


def choose(cookie: str | None, accept_language: str | None) -> Lang:
    """The person's choice, else the first of Accept-Language we speak (by q), else Korean."""
    if cookie in (Lang.KO.value, Lang.EN.value):
        return Lang(cookie)
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        ranked.append((-q, index, tag.strip().lower().split("-")[0]))
    for negative_q, _, primary in sorted(ranked):
        if negative_q < 0 and primary in (Lang.KO.value, Lang.EN.value):
            return Lang(primary)
    return DEFAULT


class Translator:
    def __init__(self, lang: Lang) -> None:
        self.lang = lang

    def __call__(self, key: str, **values: object) -> str:
        entry = MESSAGES.get(key)
        if entry is None:
            return key
        text = entry[self.lang]
        try:
            return text.format(**values)
        except (KeyError, IndexError):
            return text

    def maybe(self, key: str, fallback: str) -> str:
        """The message for ``key`` if there is one, else ``fallback`` (a code we have no words for)."""
        return self(key) if key in MESSAGES else fallback

    def problem(self, code: str, detail: str, values: dict[str, object] | None = None) -> str:
        """The message for a problem ``code``; its other members (``cap``...) fill the blanks."""
        key = f"problem.{code}"
        if key not in MESSAGES:
            key = "problem.other"
        return self(key, **({**(values or {}), "detail": detail}))
