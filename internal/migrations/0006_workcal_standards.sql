-- Work calendar (工作日历) and communication standards (沟通标准).
--
-- work_calendar_days holds the exceptions to the weekly pattern: statutory
-- holidays and make-up workdays (调休上班). The 2026 and 2027 rows below were
-- generated from github.com/6tail/lunar-go v1.4.7 (the State Council's
-- published schedules); a test compares them with that library. After this
-- migration the table is the truth: administrators edit it or import an .ics
-- file when the next year's schedule is published (around November).
CREATE TABLE work_calendar_days (
    day        TEXT PRIMARY KEY,          -- YYYY-MM-DD in the calendar's zone
    kind       TEXT NOT NULL CHECK (kind IN ('holiday', 'workday')),
    name       TEXT NOT NULL DEFAULT '',
    source     TEXT NOT NULL DEFAULT 'seed', -- seed | admin | ics
    version    BIGINT NOT NULL DEFAULT 1,
    updated_at BIGINT NOT NULL
);

-- One row: the zone, the normal working weekdays (ISO 1=Mon … 7=Sun) and the
-- business hours of every working day ("09:00-12:00,13:30-18:00").
CREATE TABLE work_calendar_settings (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    zone       TEXT NOT NULL,
    weekdays   TEXT NOT NULL,
    hours      TEXT NOT NULL,
    version    BIGINT NOT NULL DEFAULT 1,
    updated_at BIGINT NOT NULL
);
INSERT INTO work_calendar_settings (id, zone, weekdays, hours, version, updated_at)
VALUES (1, 'Asia/Shanghai', '1,2,3,4,5', '09:00-12:00,13:30-18:00', 1, 0);

-- Change counters let every instance notice, with one tiny read every few
-- seconds, that cached compiled data (calendar snapshot, rule automaton)
-- was edited elsewhere.
CREATE TABLE cache_versions (
    name    TEXT PRIMARY KEY,
    version BIGINT NOT NULL
);
INSERT INTO cache_versions (name, version) VALUES ('workcal', 1), ('standards', 1);

-- Large live-event payloads on PostgreSQL: NOTIFY carries at most ~8000
-- bytes, so bigger ones travel as the id of a row here (pruned by age).
CREATE TABLE live_events (
    id         TEXT PRIMARY KEY,
    topic      TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX live_events_created ON live_events (created_at);

INSERT INTO work_calendar_days (day, kind, name, source, version, updated_at) VALUES
    ('2026-01-01', 'holiday', '元旦节', 'seed', 1, 0),
    ('2026-01-02', 'holiday', '元旦节', 'seed', 1, 0),
    ('2026-01-03', 'holiday', '元旦节', 'seed', 1, 0),
    ('2026-01-04', 'workday', '元旦节（调休上班）', 'seed', 1, 0),
    ('2026-02-14', 'workday', '春节（调休上班）', 'seed', 1, 0),
    ('2026-02-15', 'holiday', '春节', 'seed', 1, 0),
    ('2026-02-16', 'holiday', '春节', 'seed', 1, 0),
    ('2026-02-17', 'holiday', '春节', 'seed', 1, 0),
    ('2026-02-18', 'holiday', '春节', 'seed', 1, 0),
    ('2026-02-19', 'holiday', '春节', 'seed', 1, 0),
    ('2026-02-20', 'holiday', '春节', 'seed', 1, 0),
    ('2026-02-21', 'holiday', '春节', 'seed', 1, 0),
    ('2026-02-22', 'holiday', '春节', 'seed', 1, 0),
    ('2026-02-23', 'holiday', '春节', 'seed', 1, 0),
    ('2026-02-28', 'workday', '春节（调休上班）', 'seed', 1, 0),
    ('2026-04-04', 'holiday', '清明节', 'seed', 1, 0),
    ('2026-04-05', 'holiday', '清明节', 'seed', 1, 0),
    ('2026-04-06', 'holiday', '清明节', 'seed', 1, 0),
    ('2026-05-01', 'holiday', '劳动节', 'seed', 1, 0),
    ('2026-05-02', 'holiday', '劳动节', 'seed', 1, 0),
    ('2026-05-03', 'holiday', '劳动节', 'seed', 1, 0),
    ('2026-05-04', 'holiday', '劳动节', 'seed', 1, 0),
    ('2026-05-05', 'holiday', '劳动节', 'seed', 1, 0),
    ('2026-05-09', 'workday', '劳动节（调休上班）', 'seed', 1, 0),
    ('2026-06-19', 'holiday', '端午节', 'seed', 1, 0),
    ('2026-06-20', 'holiday', '端午节', 'seed', 1, 0),
    ('2026-06-21', 'holiday', '端午节', 'seed', 1, 0),
    ('2026-09-20', 'workday', '国庆节（调休上班）', 'seed', 1, 0),
    ('2026-09-25', 'holiday', '中秋节', 'seed', 1, 0),
    ('2026-09-26', 'holiday', '中秋节', 'seed', 1, 0),
    ('2026-09-27', 'holiday', '中秋节', 'seed', 1, 0),
    ('2026-10-01', 'holiday', '国庆节', 'seed', 1, 0),
    ('2026-10-02', 'holiday', '国庆节', 'seed', 1, 0),
    ('2026-10-03', 'holiday', '国庆节', 'seed', 1, 0),
    ('2026-10-04', 'holiday', '国庆节', 'seed', 1, 0),
    ('2026-10-05', 'holiday', '国庆节', 'seed', 1, 0),
    ('2026-10-06', 'holiday', '国庆节', 'seed', 1, 0),
    ('2026-10-07', 'holiday', '国庆节', 'seed', 1, 0),
    ('2026-10-10', 'workday', '国庆节（调休上班）', 'seed', 1, 0),
    ('2027-01-01', 'holiday', '元旦节', 'seed', 1, 0),
    ('2027-01-02', 'holiday', '元旦节', 'seed', 1, 0),
    ('2027-01-03', 'holiday', '元旦节', 'seed', 1, 0),
    ('2027-01-31', 'workday', '春节（调休上班）', 'seed', 1, 0),
    ('2027-02-05', 'holiday', '春节', 'seed', 1, 0),
    ('2027-02-06', 'holiday', '春节', 'seed', 1, 0),
    ('2027-02-07', 'holiday', '春节', 'seed', 1, 0),
    ('2027-02-08', 'holiday', '春节', 'seed', 1, 0),
    ('2027-02-09', 'holiday', '春节', 'seed', 1, 0),
    ('2027-02-10', 'holiday', '春节', 'seed', 1, 0),
    ('2027-02-11', 'holiday', '春节', 'seed', 1, 0),
    ('2027-02-12', 'holiday', '春节', 'seed', 1, 0),
    ('2027-02-13', 'holiday', '春节', 'seed', 1, 0),
    ('2027-02-14', 'workday', '春节（调休上班）', 'seed', 1, 0),
    ('2027-04-03', 'holiday', '清明节', 'seed', 1, 0),
    ('2027-04-04', 'holiday', '清明节', 'seed', 1, 0),
    ('2027-04-05', 'holiday', '清明节', 'seed', 1, 0),
    ('2027-05-01', 'holiday', '劳动节', 'seed', 1, 0),
    ('2027-05-02', 'holiday', '劳动节', 'seed', 1, 0),
    ('2027-05-03', 'holiday', '劳动节', 'seed', 1, 0),
    ('2027-05-04', 'holiday', '劳动节', 'seed', 1, 0),
    ('2027-05-05', 'holiday', '劳动节', 'seed', 1, 0),
    ('2027-05-08', 'workday', '劳动节（调休上班）', 'seed', 1, 0),
    ('2027-06-09', 'holiday', '端午节', 'seed', 1, 0),
    ('2027-09-15', 'holiday', '中秋节', 'seed', 1, 0),
    ('2027-09-26', 'workday', '国庆节（调休上班）', 'seed', 1, 0),
    ('2027-10-01', 'holiday', '国庆节', 'seed', 1, 0),
    ('2027-10-02', 'holiday', '国庆节', 'seed', 1, 0),
    ('2027-10-03', 'holiday', '国庆节', 'seed', 1, 0),
    ('2027-10-04', 'holiday', '国庆节', 'seed', 1, 0),
    ('2027-10-05', 'holiday', '国庆节', 'seed', 1, 0),
    ('2027-10-06', 'holiday', '国庆节', 'seed', 1, 0),
    ('2027-10-07', 'holiday', '国庆节', 'seed', 1, 0),
    ('2027-10-09', 'workday', '国庆节（调休上班）', 'seed', 1, 0);

-- Communication standards (沟通标准; seed regulations 5 第六条, 6, 9): rules
-- that outgoing replies are checked against. kind decides what a match
-- means: forbidden (block), jargon (warn, with a plain-language suggestion),
-- greeting / closing (hint when a first / last reply has none of them),
-- time_promise (hint when a promise of time carries no follow-up date).
-- lang '' applies to replies in any language. exceptions is a JSON array of
-- innocent phrases that contain the pattern (滚动 for 滚).
CREATE TABLE standards_rules (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('forbidden', 'jargon', 'greeting', 'closing', 'time_promise')),
    pattern    TEXT NOT NULL,
    lang       TEXT NOT NULL DEFAULT '',
    severity   TEXT NOT NULL CHECK (severity IN ('hint', 'warn', 'block')),
    suggestion TEXT NOT NULL DEFAULT '',
    exceptions TEXT NOT NULL DEFAULT '[]',
    note       TEXT NOT NULL DEFAULT '',
    enabled    BOOLEAN NOT NULL DEFAULT TRUE,
    version    BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX standards_rules_unique ON standards_rules (kind, lang, pattern);

INSERT INTO standards_rules (id, kind, pattern, lang, severity, suggestion, exceptions, created_at, updated_at) VALUES
    ('std-f-001', 'forbidden', '滚', '', 'block', '', '["滚动","滚筒","滚轮","翻滚","滚烫","滚雪球","打滚","滚珠","滚存","滚屏","滚装","滚梯","滚刀","滚石","滚圆","滚滚","滚瓜烂熟","利滚利","滚水"]', 0, 0),
    ('std-f-002', 'forbidden', '滚蛋', '', 'block', '', '[]', 0, 0),
    ('std-f-003', 'forbidden', '蠢', '', 'block', '', '["蠢蠢欲动"]', 0, 0),
    ('std-f-004', 'forbidden', '笨蛋', '', 'block', '', '[]', 0, 0),
    ('std-f-005', 'forbidden', '白痴', '', 'block', '', '[]', 0, 0),
    ('std-f-006', 'forbidden', '傻逼', '', 'block', '', '[]', 0, 0),
    ('std-f-007', 'forbidden', '你懂不懂', '', 'block', '', '[]', 0, 0),
    ('std-f-008', 'forbidden', '爱买不买', '', 'block', '', '[]', 0, 0),
    ('std-f-009', 'forbidden', '投诉也没用', '', 'block', '', '[]', 0, 0),
    ('std-f-010', 'forbidden', '有本事你去投诉', '', 'block', '', '[]', 0, 0),
    ('std-f-011', 'forbidden', '你有病', '', 'block', '', '[]', 0, 0),
    ('std-f-012', 'forbidden', '神经病', '', 'block', '', '[]', 0, 0),
    ('std-f-013', 'forbidden', '找死', '', 'block', '', '[]', 0, 0),
    ('std-f-014', 'forbidden', '你给我等着', '', 'block', '', '[]', 0, 0),
    ('std-f-015', 'forbidden', '后果自负', '', 'block', '', '[]', 0, 0),
    ('std-f-016', 'forbidden', '闭嘴', '', 'block', '', '[]', 0, 0),
    ('std-f-017', 'forbidden', '少废话', '', 'block', '', '[]', 0, 0),
    ('std-f-018', 'forbidden', '不买就别问', '', 'block', '', '[]', 0, 0),
    ('std-f-019', 'forbidden', '关我什么事', '', 'block', '', '[]', 0, 0),
    ('std-f-020', 'forbidden', '去死', '', 'block', '', '[]', 0, 0),
    ('std-f-021', 'forbidden', '脑子进水', '', 'block', '', '[]', 0, 0),
    ('std-f-101', 'forbidden', 'stupid', '', 'block', '', '[]', 0, 0),
    ('std-f-102', 'forbidden', 'idiot', '', 'block', '', '[]', 0, 0),
    ('std-f-103', 'forbidden', 'shut up', '', 'block', '', '[]', 0, 0),
    ('std-f-104', 'forbidden', 'dumb', '', 'block', '', '[]', 0, 0),
    ('std-f-105', 'forbidden', 'take it or leave it', '', 'block', '', '[]', 0, 0),
    ('std-f-106', 'forbidden', 'go to hell', '', 'block', '', '[]', 0, 0),
    ('std-f-107', 'forbidden', 'none of my business', '', 'block', '', '[]', 0, 0),
    ('std-f-108', 'forbidden', 'complaining won''t help', '', 'block', '', '[]', 0, 0),
    ('std-j-001', 'jargon', 'SaaS', 'zh-CN', 'warn', '在线使用的软件服务', '[]', 0, 0),
    ('std-j-002', 'jargon', 'SLA', 'zh-CN', 'warn', '服务时限', '[]', 0, 0),
    ('std-j-003', 'jargon', 'API', 'zh-CN', 'warn', '接口', '[]', 0, 0),
    ('std-j-004', 'jargon', '私有化部署', 'zh-CN', 'warn', '部署在贵公司服务器', '[]', 0, 0),
    ('std-j-005', 'jargon', 'PaaS', 'zh-CN', 'warn', '平台服务', '[]', 0, 0),
    ('std-j-006', 'jargon', 'KPI', 'zh-CN', 'warn', '考核指标', '[]', 0, 0),
    ('std-j-007', 'jargon', 'ROI', 'zh-CN', 'warn', '投资回报', '[]', 0, 0),
    ('std-j-008', 'jargon', 'POC', 'zh-CN', 'warn', '试用验证', '[]', 0, 0),
    ('std-j-009', 'jargon', '中台', 'zh-CN', 'warn', '共享的业务平台', '[]', 0, 0),
    ('std-j-010', 'jargon', '赋能', 'zh-CN', 'warn', '帮助', '[]', 0, 0),
    ('std-j-011', 'jargon', '闭环', 'zh-CN', 'warn', '从头到尾处理完', '[]', 0, 0),
    ('std-j-012', 'jargon', '颗粒度', 'zh-CN', 'warn', '细致程度', '[]', 0, 0),
    ('std-j-013', 'jargon', '抓手', 'zh-CN', 'warn', '切入点', '[]', 0, 0),
    ('std-j-014', 'jargon', '底层逻辑', 'zh-CN', 'warn', '基本原理', '[]', 0, 0),
    ('std-j-015', 'jargon', '高并发', 'zh-CN', 'warn', '很多人同时使用', '[]', 0, 0),
    ('std-j-016', 'jargon', '容器化', 'zh-CN', 'warn', '打包后统一部署', '[]', 0, 0),
    ('std-j-101', 'jargon', 'SaaS', 'en', 'warn', 'online software', '[]', 0, 0),
    ('std-j-102', 'jargon', 'SLA', 'en', 'warn', 'guaranteed response time', '[]', 0, 0),
    ('std-j-103', 'jargon', 'API', 'en', 'warn', 'connection to your other systems', '[]', 0, 0),
    ('std-j-104', 'jargon', 'on-premise', 'en', 'warn', 'installed on your own servers', '[]', 0, 0),
    ('std-j-105', 'jargon', 'POC', 'en', 'warn', 'trial', '[]', 0, 0),
    ('std-j-106', 'jargon', 'leverage', 'en', 'warn', 'use', '[]', 0, 0),
    ('std-j-107', 'jargon', 'synergy', 'en', 'warn', 'working together', '[]', 0, 0),
    ('std-g-001', 'greeting', '您好', '', 'hint', '您好', '[]', 0, 0),
    ('std-g-002', 'greeting', '你好', '', 'hint', '您好', '[]', 0, 0),
    ('std-g-003', 'greeting', '早上好', '', 'hint', '您好', '[]', 0, 0),
    ('std-g-004', 'greeting', '下午好', '', 'hint', '您好', '[]', 0, 0),
    ('std-g-005', 'greeting', '晚上好', '', 'hint', '您好', '[]', 0, 0),
    ('std-g-101', 'greeting', 'Hello', '', 'hint', 'Hello', '[]', 0, 0),
    ('std-g-102', 'greeting', 'Hi', '', 'hint', 'Hello', '[]', 0, 0),
    ('std-g-103', 'greeting', 'Dear', '', 'hint', 'Hello', '[]', 0, 0),
    ('std-g-104', 'greeting', 'Good morning', '', 'hint', 'Hello', '[]', 0, 0),
    ('std-g-105', 'greeting', 'Good afternoon', '', 'hint', 'Hello', '[]', 0, 0),
    ('std-c-001', 'closing', '感谢', '', 'hint', '感谢您的咨询', '[]', 0, 0),
    ('std-c-002', 'closing', '谢谢', '', 'hint', '感谢您的咨询', '[]', 0, 0),
    ('std-c-003', 'closing', '祝', '', 'hint', '祝您工作顺利', '[]', 0, 0),
    ('std-c-004', 'closing', '欢迎随时', '', 'hint', '感谢您的咨询', '[]', 0, 0),
    ('std-c-101', 'closing', 'Thank', '', 'hint', 'Thank you for your inquiry', '[]', 0, 0),
    ('std-c-102', 'closing', 'Thanks', '', 'hint', 'Thank you for your inquiry', '[]', 0, 0),
    ('std-c-103', 'closing', 'regards', '', 'hint', 'Best regards', '[]', 0, 0),
    ('std-c-104', 'closing', 'Sincerely', '', 'hint', 'Best regards', '[]', 0, 0),
    ('std-t-001', 'time_promise', '明天', '', 'hint', '', '[]', 0, 0),
    ('std-t-002', 'time_promise', '稍后', '', 'hint', '', '[]', 0, 0),
    ('std-t-003', 'time_promise', '马上', '', 'hint', '', '[]', 0, 0),
    ('std-t-004', 'time_promise', '回头', '', 'hint', '', '["回头客"]', 0, 0),
    ('std-t-005', 'time_promise', '尽快给您回复', '', 'hint', '', '[]', 0, 0),
    ('std-t-006', 'time_promise', '尽快回复', '', 'hint', '', '[]', 0, 0),
    ('std-t-007', 'time_promise', '晚点', '', 'hint', '', '[]', 0, 0),
    ('std-t-008', 'time_promise', '过两天', '', 'hint', '', '[]', 0, 0),
    ('std-t-009', 'time_promise', '改天', '', 'hint', '', '[]', 0, 0),
    ('std-t-010', 'time_promise', '下周', '', 'hint', '', '[]', 0, 0),
    ('std-t-011', 'time_promise', '后天', '', 'hint', '', '["后天性"]', 0, 0),
    ('std-t-101', 'time_promise', 'tomorrow', '', 'hint', '', '[]', 0, 0),
    ('std-t-102', 'time_promise', 'get back to you', '', 'hint', '', '[]', 0, 0),
    ('std-t-103', 'time_promise', 'as soon as possible', '', 'hint', '', '[]', 0, 0),
    ('std-t-104', 'time_promise', 'ASAP', '', 'hint', '', '[]', 0, 0),
    ('std-t-105', 'time_promise', 'next week', '', 'hint', '', '[]', 0, 0),
    ('std-t-106', 'time_promise', 'later today', '', 'hint', '', '[]', 0, 0);
