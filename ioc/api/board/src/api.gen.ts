/** The API's types, generated from its OpenAPI document by gen-types.mjs: do not edit. */

export type paths = {
    "/api/v1/alerts": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Alerts, newest first, filtered; open = firing or acknowledged */
        get: operations["alerts"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/alerts/{alert_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One alert */
        get: operations["alert"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/alerts/{alert_id}/ack": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Acknowledge a firing alert (stops escalation) */
        post: operations["acknowledge"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/alerts/{alert_id}/history": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Every transition of one alert, oldest first */
        get: operations["alert_history"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/areas": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Areas valid today within the key's scope */
        get: operations["areas"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/areas/{code}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One area */
        get: operations["area"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/audit": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The audit log, newest first (admin) */
        get: operations["audit_log"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/dlq": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Dead letters, newest first, with counts by source and reason */
        get: operations["dead_letters"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/dlq/replay": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Send chosen dead letters back to the topic they came from */
        post: operations["replay"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/entities": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Cameras, network points and online services: down first, since when, last seen
         * @description Each entity's latest state as reported by its feed. `state`: `down` (its latest report says down), `silent` (it said up, but not for `silent_minutes`), `up`. Ordered down first, then silent, then up, each by `since` (longest first). `area` is the area or anything under it. `counts` gives the matches in each state (every filter but `state` applied). Page with `cursor` = the previous page's `next_cursor`; a walk judges every page at the first page's moment (`at`).
         */
        get: operations["entities"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/feeds": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Each feed: events per minute, freshness, connectors, stream lag
         * @description Every declared feed (the shipped four, a plugin's, the province's `IOC_FEEDS_DIR`), in the declarations' order, with its Vietnamese and English names.
         */
        get: operations["feeds"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/indicators": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Periodic indicators of an area: value of the period due now, target, due day, state
         * @description Every indicator the area's level reports, as of today in Vietnam.
         *
         *     ``state`` is ``reported`` when the period that ended last has a value, ``due`` while its
         *     due day has not passed, ``late`` once it has (the board shows "Chưa báo cáo"); ``late``
         *     also names an earlier period still missing past its own due day.
         */
        get: operations["indicators"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/indicators/{indicator}/history": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Every entry of one indicator in one area, newest first: who, when, what it replaced */
        get: operations["indicator_history"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/indicators/template.{fmt}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The upload template (xlsx or csv) for the periods due now
         * @description One row per indicator the area reports, with the period due now and its due day.
         *
         *     With ``communes``, also one per commune below. The ``value`` column is left to fill in.
         */
        get: operations["indicator_template"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/indicators/upload": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Import a filled-in template (XLSX or CSV as the body): every row, or none
         * @description Import the file whole, or not at all.
         *
         *     Every bad row is listed (row number as the spreadsheet shows it, column, reason) in the
         *     422's ``errors``, and nothing is imported until the file has none. Rows whose value is
         *     empty are skipped and counted. Values of percent indicators are in percent (60 or 60%).
         */
        post: operations["upload"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/indicators/values": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Enter (or correct) one indicator's value for an area and a period */
        post: operations["enter_value"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/kpis": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The KPI catalogue with targets, deadlines and legal sources */
        get: operations["kpis"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/kpis/{kpi}/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The events behind a KPI value: its numerator or denominator, paged or as CSV
         * @description The events behind one KPI value: those that added the KPI's numerator metric
         *     (`part=numerator`, the default) or its denominator metric (`part=denominator`), in the area
         *     or any area under it on the event's local day, in the value's span.
         *
         *     Name the span by **either** `bucket` (a bucket start from `/kpis/{kpi}/series`) with its
         *     `resolution` (`1m`, `1h` default, `1d` = local days), **or** `from` and `to` (`[from, to)`).
         *     Times need a UTC offset.
         *
         *     Pages are oldest first, keyed on (time, event id): pass `next_cursor` back as `cursor` for
         *     the next page (null on the last). `limit` is 100 by default, at most
         *     1000. The first page (no cursor) also gives `total`.
         *
         *     `format=csv` returns every event of the list as one CSV file (UTF-8 with BOM; Vietnamese
         *     headers “Mã sự kiện”, “Thời điểm (giờ Việt Nam)”, “Thời điểm (UTC)”, “Mã địa bàn”, “Địa bàn”, “Đối tượng”, “Loại”, “Nguồn”, “Chi tiết”; times in Vietnam time and UTC), at
         *     most 100,000 rows: a longer list is refused with 422 `export-too-large`;
         *     narrow the range. The response carries `X-Total-Count`.
         *
         *     Errors (problem+json): 404 unknown KPI or area; 403 an area outside the key's scope; 422 a
         *     span given twice or not at all, a time that starts no bucket, `to` not after `from`, a
         *     cursor this API did not give, a limit out of range.
         */
        get: operations["kpi_events"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/kpis/{kpi}/series": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * One KPI's stored buckets over a range
         * @description The KPI's buckets in the area over [start, end), each with its numerator and denominator.
         *
         *     A distinct-count KPI (``distinct`` in `GET /api/v1/kpis`) is never summed: its `1d`
         *     buckets are the stored local days, and its `1h` and `1m` buckets are counted from the
         *     event store when asked.
         */
        get: operations["kpi_series"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/kpis/current": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Every KPI in one area: last 24 h value, target, gap, hourly trend, data quality */
        get: operations["kpis_current"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/kpis/periods": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Every KPI over a day, month, quarter, year or the year to date, against target
         * @description Each KPI's exact value over the period, against its target.
         *
         *     The value is the ratio of the period's sums (a distinct-count KPI is counted over the whole
         *     period), with target, gap, the trend per part of the period, the worst child areas, DVC
         *     agencies and the forecast at the period's end.
         */
        get: operations["kpi_periods"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/map": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The area's children today, coloured by status, for the board's map */
        get: operations["area_map"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/me": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The calling key: holder, role, scope and permissions */
        get: operations["me"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/reports/{name}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The period report as an Excel workbook or a PDF: /reports/2025-Q3.xlsx
         * @description ``{period}.xlsx`` or ``{period}.pdf``: the report ``ioc reports build`` writes.
         */
        get: operations["report"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/scorecard": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The QĐ 766 scorecard of an area by agency or commune, ranked, with the change
         * @description The five groups of QĐ 766/QĐ-TTg and their components, per agency or child area.
         *
         *     ``period`` as in ``/kpis/periods`` (default: this month); the change is against the
         *     period before (last month for a month). Components no feed carries are listed with their
         *     source and no figure; points are estimates (``estimate_note``).
         */
        get: operations["scorecard"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/silences": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Silences in force now, within the key's scope */
        get: operations["silences"];
        put?: never;
        /**
         * Silence a rule (pattern) for a while
         * @description The rule's alerts still fire and show; nobody is told while it holds. A silence set with a key limited to an area lasts at most IOC_API__AREA_SILENCE_MAX_MINUTES and never holds an escalation to leaders above that area: the province still hears what its communes leave unacknowledged.
         */
        post: operations["create_silence"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/silences/{silence_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** End a silence now */
        delete: operations["delete_silence"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/stream": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Server-sent events: `kpis` tiles of the area, `feeds` every 5 s, `alert` changes
         * @description First `kpis` and `feeds`, then `kpis` whenever values change, `feeds` every 5 s and `alert` for each transition the key may see; `: ping` after 15 s of quiet. The key is checked again every IOC_API__STREAM_RECHECK_SECONDS (30 s): once it is revoked the stream sends `end` and closes. Each event's `data` is JSON: `kpis`: KpisCurrent, `feeds`: Feeds, `alert`: AlertEvent, `end`: StreamEnd.
         */
        get: operations["stream"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/windows": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Window rows of one metric: 1m windows or the 1h/1d roll-ups */
        get: operations["windows"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness: the process answers (no key needed) */
        get: operations["healthz"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Pipeline health in the Prometheus text format */
        get: operations["metrics"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/problems/{slug}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** What a problem `type` means and what to do, in Vietnamese and English */
        get: operations["problem_page"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/readyz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Readiness: the database answers (no key needed) */
        get: operations["readyz"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
};
export type webhooks = Record<string, never>;
export type components = {
    schemas: {
        /**
         * AckBody
         * @description An acknowledgement; the key's holder is recorded as who took the alert on.
         */
        AckBody: {
            /** Note */
            note?: string | null;
        };
        /**
         * Alert
         * @description An alert, with names and a one-line summary in both languages, and its causes.
         */
        Alert: {
            /** Acknowledged At */
            acknowledged_at: string | null;
            /** Acknowledged By */
            acknowledged_by: string | null;
            /** Area */
            area: string;
            /** Area Name En */
            area_name_en: string | null;
            /** Area Name Vi */
            area_name_vi: string | null;
            /** Contributors */
            contributors: components["schemas"]["Contributor"][];
            /** Entities */
            entities: components["schemas"]["EntityAtFault"][];
            /** Entities Down */
            entities_down: number;
            /** Fired At */
            fired_at: string | null;
            /** Id */
            id: number;
            /** Kpi */
            kpi: string | null;
            /** Kpi Name En */
            kpi_name_en: string | null;
            /** Kpi Name Vi */
            kpi_name_vi: string | null;
            /** Level */
            level: number | string | null;
            /** Resolved At */
            resolved_at: string | null;
            /** Rule */
            rule: string;
            /**
             * Severity
             * @enum {string}
             */
            severity: "info" | "warning" | "critical";
            /**
             * Started At
             * Format: date-time
             */
            started_at: string;
            /**
             * State
             * @enum {string}
             */
            state: "firing" | "acknowledged" | "resolved";
            /** Summary En */
            summary_en: string | null;
            /** Summary Vi */
            summary_vi: string | null;
            /** Target */
            target: number | null;
            /** Value */
            value: number | null;
        };
        /**
         * AlertEvent
         * @description An alert transition on the live stream.
         */
        AlertEvent: {
            alert: components["schemas"]["Alert"];
            /**
             * Kind
             * @enum {string}
             */
            kind: "fired" | "acknowledged" | "escalated" | "resolved";
        };
        /**
         * AlertHistoryPage
         * @description An alert's transitions, one page.
         */
        AlertHistoryPage: {
            /** Items */
            items: components["schemas"]["AlertTransition"][];
            /** Limit */
            limit: number;
            /** Next Offset */
            next_offset: number | null;
            /** Offset */
            offset: number;
            /** Total */
            total: number;
        };
        /**
         * AlertPage
         * @description Alerts, one page.
         */
        AlertPage: {
            /** Items */
            items: components["schemas"]["Alert"][];
            /** Limit */
            limit: number;
            /** Next Offset */
            next_offset: number | null;
            /** Offset */
            offset: number;
            /** Total */
            total: number;
        };
        /**
         * AlertTransition
         * @description One transition of an alert.
         */
        AlertTransition: {
            /** Actor */
            actor: string | null;
            /**
             * At
             * Format: date-time
             */
            at: string;
            /** Kind */
            kind: string;
            /** Level */
            level: number | string | null;
            /** Notified */
            notified?: unknown;
            /** Value */
            value: number | null;
        };
        /**
         * Area
         * @description An area (province, district or commune) as valid today.
         */
        Area: {
            /**
             * Bounds
             * @description [west, south, east, north] in degrees
             */
            bounds: [
                number,
                number,
                number,
                number
            ] | null;
            /** Code */
            code: string;
            /**
             * Estimated
             * @description population and households are estimates
             */
            estimated: boolean;
            /** Households */
            households: number | null;
            /**
             * Lat
             * @description a point inside the area (WGS 84); null: none known
             */
            lat: number | null;
            /**
             * Level
             * @enum {string}
             */
            level: "province" | "district" | "commune";
            /** Lon */
            lon: number | null;
            /** Name En */
            name_en: string | null;
            /** Name Vi */
            name_vi: string;
            /** Parent */
            parent: string | null;
            /** Population */
            population: number | null;
        };
        /**
         * AreaList
         * @description The areas valid today within the key's scope.
         */
        AreaList: {
            /** Items */
            items: components["schemas"]["Area"][];
        };
        /**
         * AuditLine
         * @description One refusal or change.
         */
        AuditLine: {
            /** Action */
            action: string;
            /** Actor */
            actor: string | null;
            /**
             * At
             * Format: date-time
             */
            at: string;
            /** Client */
            client: string;
            /**
             * Detail
             * @description JSON text
             */
            detail: string | null;
            /** Outcome */
            outcome: string;
            /** Role */
            role: string | null;
            /** Status */
            status: number;
            /** Target */
            target: string;
        };
        /**
         * AuditPage
         * @description Audit lines, newest first, one page.
         */
        AuditPage: {
            /** Items */
            items: components["schemas"]["AuditLine"][];
            /** Limit */
            limit: number;
            /** Next Offset */
            next_offset: number | null;
            /** Offset */
            offset: number;
            /** Total */
            total: number;
        };
        /**
         * Basemap
         * @description Tiles a site serves for the map's background (``IOC_API__BASEMAP_URL``).
         */
        Basemap: {
            /** Attribution */
            attribution: string | null;
            /**
             * Url
             * @description with {z}, {x} and {y}
             */
            url: string;
        };
        /**
         * ConnectorHealth
         * @description A connector behind a feed (province-wide keys only).
         */
        ConnectorHealth: {
            /** Dead Lettered */
            dead_lettered: number | null;
            /** Failed */
            failed: number | null;
            /** Live */
            live: boolean;
            /** Name */
            name: string;
            /** Rate */
            rate: number | null;
            /** Sent */
            sent: number | null;
            /** Spooled */
            spooled: number | null;
            /** State */
            state: string;
        };
        /**
         * Contributor
         * @description A child area that moved the KPI in the bad direction.
         */
        Contributor: {
            /** Area */
            area: string;
            /** Area Name En */
            area_name_en: string | null;
            /** Area Name Vi */
            area_name_vi: string | null;
            /** Gap */
            gap: number;
            /** Rate Effect */
            rate_effect: number;
            /** Value */
            value: number | null;
            /** Volume Effect */
            volume_effect: number;
        };
        /**
         * DeadLetter
         * @description A message the pipeline could not use.
         */
        DeadLetter: {
            /** Detail */
            detail: string;
            /**
             * Failed At
             * Format: date-time
             */
            failed_at: string;
            /** Id */
            id: string;
            /** Location */
            location: string | null;
            /**
             * Original
             * @description the first bytes of the message, as text
             */
            original: string;
            /** Original Bytes */
            original_bytes: number;
            /** Reason */
            reason: string;
            /** Replayable */
            replayable: boolean;
            /** Source */
            source: string;
            /**
             * Stage
             * @enum {string}
             */
            stage: "ingest" | "stream";
        };
        /**
         * DeadLetterCount
         * @description How many dead letters one source rejected for one reason.
         */
        DeadLetterCount: {
            /** Count */
            count: number;
            /** Reason */
            reason: string;
            /** Source */
            source: string;
        };
        /**
         * DeadLetterPage
         * @description Dead letters, newest first, one page, with counts.
         */
        DeadLetterPage: {
            /** Items */
            items: components["schemas"]["DeadLetter"][];
            /** Limit */
            limit: number;
            /** Next Offset */
            next_offset: number | null;
            /** Offset */
            offset: number;
            /** Summary */
            summary: components["schemas"]["DeadLetterCount"][];
            /** Total */
            total: number;
        };
        /**
         * DrillEvent
         * @description One stored event behind a KPI value.
         */
        DrillEvent: {
            /** Area */
            area: string;
            /** Area Name Vi */
            area_name_vi: string | null;
            /** Entity */
            entity: string | null;
            /** Event Id */
            event_id: string;
            /** Feed */
            feed: string;
            /** Kind */
            kind: string;
            /**
             * Occurred At
             * Format: date-time
             */
            occurred_at: string;
            /** Payload */
            payload: unknown;
            /** Source */
            source: string | null;
        };
        /**
         * DrillPage
         * @description A page of the events behind a KPI value (keyset: pass ``next_cursor`` as ``cursor``).
         */
        DrillPage: {
            /** Area */
            area: string;
            /** Area Name Vi */
            area_name_vi: string;
            /**
             * From
             * Format: date-time
             */
            from: string;
            /** Items */
            items: components["schemas"]["DrillEvent"][];
            /** Kpi */
            kpi: string;
            /** Limit */
            limit: number;
            /** Metric */
            metric: string;
            /** Name En */
            name_en: string;
            /** Name Vi */
            name_vi: string;
            /** Next Cursor */
            next_cursor: string | null;
            /**
             * Part
             * @enum {string}
             */
            part: "numerator" | "denominator";
            /**
             * To
             * Format: date-time
             */
            to: string;
            /**
             * Total
             * @description on the first page only
             */
            total: number | null;
        };
        /**
         * EntitiesPage
         * @description Points and their state, one keyset page.
         */
        EntitiesPage: {
            /**
             * At
             * Format: date-time
             */
            at: string;
            counts: components["schemas"]["EntityCounts"];
            filters: components["schemas"]["EntityFilters"];
            /** Items */
            items: components["schemas"]["Entity"][];
            /** Limit */
            limit: number;
            /** Next Cursor */
            next_cursor: string | null;
        };
        /**
         * Entity
         * @description A point's latest state.
         */
        Entity: {
            /** Area */
            area: string;
            /** Area Name En */
            area_name_en: string | null;
            /** Area Name Vi */
            area_name_vi: string | null;
            /** Entity */
            entity: string;
            /** Feed */
            feed: string;
            /** Kind */
            kind: string;
            /**
             * Last Seen
             * Format: date-time
             */
            last_seen: string;
            /**
             * Since
             * Format: date-time
             */
            since: string;
            /**
             * State
             * @enum {string}
             */
            state: "down" | "silent" | "up";
            /** Up */
            up: boolean;
        };
        /**
         * EntityAtFault
         * @description A point (camera, network site, service) and where it is.
         */
        EntityAtFault: {
            /** Area */
            area: string;
            /** Area Name En */
            area_name_en: string | null;
            /** Area Name Vi */
            area_name_vi: string | null;
            /** Entity */
            entity: string;
            /** Feed */
            feed: string;
            /** Kind */
            kind: string;
            /**
             * Last Seen
             * Format: date-time
             */
            last_seen: string;
            /**
             * Since
             * Format: date-time
             */
            since: string;
        };
        /**
         * EntityCounts
         * @description How many points are in each state.
         */
        EntityCounts: {
            /** Down */
            down: number;
            /** Silent */
            silent: number;
            /** Total */
            total: number;
            /** Up */
            up: number;
        };
        /**
         * EntityFilters
         * @description The filters a page was listed with.
         */
        EntityFilters: {
            /** Area */
            area: string | null;
            /** Feed */
            feed: string[] | null;
            /** Kind */
            kind: string | null;
            /** Silent Minutes */
            silent_minutes: number;
            /** State */
            state: ("down" | "silent" | "up") | null;
        };
        /**
         * EntryBody
         * @description One value of one indicator, area and period.
         */
        EntryBody: {
            /**
             * Area
             * @description GSO code; unset: the key's area, else the province
             */
            area?: string | null;
            /**
             * Indicator
             * @description its id, e.g. work_files_online
             */
            indicator: string;
            /** Note */
            note?: string | null;
            /**
             * Period
             * @description 2025-07, 2025-Q3 or 2025, as the indicator
             */
            period: string;
            /**
             * Value
             * @description in the indicator's unit: a fraction 0–1 for percent (0.6 = 60 %), a whole number from 1 for rank
             */
            value: number;
        };
        /**
         * Feed
         * @description One feed's health.
         *
         *     ``idle``: the connector runs and nothing waits to be counted, the source is just quiet;
         *     ``quiet``: outside the feed's office hours or on a public holiday (feed_calendar.yaml).
         */
        Feed: {
            /** Connectors */
            connectors: components["schemas"]["ConnectorHealth"][];
            /** Events Last 5M */
            events_last_5m: number;
            /**
             * Feed
             * @description the feed's name in its declaration (ioc/data/feeds/*.yaml)
             */
            feed: string;
            /** Last Window */
            last_window: string | null;
            /** Name En */
            name_en: string;
            /**
             * Name Vi
             * @description what users read
             */
            name_vi: string;
            /** Series */
            series: components["schemas"]["FeedMinute"][];
            /**
             * State
             * @enum {string}
             */
            state: "ok" | "idle" | "quiet" | "stale" | "down";
            /**
             * States
             * @description its events report entities' states (GET /api/v1/entities)
             */
            states: boolean;
            stream: components["schemas"]["StreamHealth"] | null;
        };
        /**
         * FeedMinute
         * @description Events of one minute.
         */
        FeedMinute: {
            /**
             * Bucket
             * Format: date-time
             */
            bucket: string;
            /** Events */
            events: number;
        };
        /**
         * Feeds
         * @description Every feed's health.
         */
        Feeds: {
            /**
             * At
             * Format: date-time
             */
            at: string;
            /** Items */
            items: components["schemas"]["Feed"][];
        };
        /**
         * Forecast
         * @description When the KPI will meet its target at its recent trend (``ioc kpis show`` says the same).
         */
        Forecast: {
            /** Days Used */
            days_used: number;
            /** Deadline */
            deadline: string | null;
            /** Error En */
            error_en: string;
            /** Error Vi */
            error_vi: string;
            /**
             * Mae
             * @description one-day-ahead error on the days used, KPI units
             */
            mae: number | null;
            /** Model */
            model: string;
            /**
             * Reach Date
             * @description None when no date is honest; the words say why
             */
            reach_date: string | null;
            /** Slope Per Day */
            slope_per_day: number | null;
            /**
             * Status
             * @enum {string}
             */
            status: "met" | "on_track" | "moving_away" | "flat" | "beyond_horizon" | "too_few_days";
            /** Text En */
            text_en: string;
            /** Text Vi */
            text_vi: string;
        };
        /**
         * Health
         * @description ``/healthz``: the process answers; ``degraded`` names notifier problems on this machine.
         */
        Health: {
            /**
             * Notifier
             * @description each notifier that cannot deliver, and why
             */
            notifier?: {
                [key: string]: string;
            } | null;
            /**
             * Status
             * @enum {string}
             */
            status: "ok" | "degraded";
        };
        /**
         * IndicatorEntry
         * @description A value as stored: what it replaced, who entered it and when.
         */
        IndicatorEntry: {
            /** Area */
            area: string;
            /**
             * Entered At
             * Format: date-time
             */
            entered_at: string;
            /** Entered By */
            entered_by: string;
            /** Indicator */
            indicator: string;
            /** Note */
            note: string | null;
            /** Period */
            period: string;
            /**
             * Previous
             * @description the value it replaced; null: the first
             */
            previous: number | null;
            /** Revision */
            revision: number;
            /** Value */
            value: number;
            /**
             * Via
             * @enum {string}
             */
            via: "api" | "upload" | "cli";
        };
        /**
         * IndicatorHistory
         * @description Every entry of one indicator in one area, newest first, corrections included.
         */
        IndicatorHistory: {
            /** Area */
            area: string;
            /** Indicator */
            indicator: string;
            /** Items */
            items: components["schemas"]["IndicatorEntry"][];
        };
        /**
         * IndicatorList
         * @description Every periodic indicator the area's level reports, as of its local day.
         */
        IndicatorList: {
            area: components["schemas"]["Area"];
            /** Items */
            items: components["schemas"]["IndicatorStatus"][];
            /**
             * Today
             * Format: date
             */
            today: string;
        };
        /**
         * IndicatorStatus
         * @description One periodic indicator in one area: the period due now, its value and state.
         */
        IndicatorStatus: {
            /** Department En */
            department_en: string;
            /** Department Vi */
            department_vi: string;
            /**
             * Direction
             * @enum {string}
             */
            direction: "higher" | "lower";
            /**
             * Due
             * Format: date
             * @description the last day its value is on time
             */
            due: string;
            /**
             * Due Estimate
             * @description the due day is our default, set by no document
             */
            due_estimate: boolean;
            /** Entered At */
            entered_at: string | null;
            /** Entered By */
            entered_by: string | null;
            /** Id */
            id: string;
            /** Last Period */
            last_period: string | null;
            /**
             * Last Value
             * @description the latest value of any period
             */
            last_value: number | null;
            /** Levels */
            levels: ("province" | "district" | "commune")[];
            /**
             * Meets
             * @description value reaches the target; null: no value or target
             */
            meets: boolean | null;
            /** Name En */
            name_en: string;
            /** Name Vi */
            name_vi: string;
            /**
             * Period
             * @description the period the state is about: 2026-11, 2026-Q3, 2025
             */
            period: string;
            /**
             * Period Kind
             * @enum {string}
             */
            period_kind: "monthly" | "quarterly" | "yearly";
            /**
             * Period Vi
             * @description Tháng 11/2026, Quý III/2026, Năm 2025
             */
            period_vi: string;
            /**
             * Reported
             * @description results published before, never judged
             */
            reported: components["schemas"]["Reported"][];
            /**
             * State
             * @description late: the due day has passed without a value (Chưa báo cáo)
             * @enum {string}
             */
            state: "reported" | "due" | "late";
            /** State En */
            state_en: string;
            /** State Vi */
            state_vi: string;
            /**
             * Target
             * @description the target of the area's level; null: none
             */
            target: number | null;
            /** Target Deadline */
            target_deadline: string | null;
            /**
             * Target Estimate
             * @description the target is an estimate; see target_note
             */
            target_estimate: boolean;
            /** Target Note */
            target_note: string | null;
            /** Target Source */
            target_source: string | null;
            /**
             * Unit
             * @description percent: a fraction 0–1, like KPI values; rank: 1 = first
             * @enum {string}
             */
            unit: "percent" | "number" | "rank";
            /**
             * Value
             * @description the value of `period`; null: not reported
             */
            value: number | null;
        };
        /**
         * IndicatorUpload
         * @description An upload imported whole.
         */
        IndicatorUpload: {
            /** Imported */
            imported: number;
            /** Items */
            items: components["schemas"]["IndicatorEntry"][];
            /**
             * Skipped
             * @description rows left without a value (the template's unfilled rows)
             */
            skipped: number;
        };
        /**
         * InvalidField
         * @description One field of a request that failed validation.
         */
        InvalidField: {
            /** Loc */
            loc: string[];
            /** Msg */
            msg: string;
        };
        /**
         * KpiCatalogue
         * @description The KPI catalogue.
         */
        KpiCatalogue: {
            /** Items */
            items: components["schemas"]["KpiInfo"][];
        };
        /**
         * KpiCurrent
         * @description One KPI in one area: the last 24 hours.
         */
        KpiCurrent: {
            /** Denominator */
            denominator: number;
            /**
             * Direction
             * @enum {string}
             */
            direction: "higher" | "lower";
            /** Distinct */
            distinct: string | null;
            /** Feed */
            feed: string;
            /** @description None: the KPI has no target */
            forecast?: components["schemas"]["Forecast"] | null;
            /**
             * Gap
             * @description value - target, positive = better than the target
             */
            gap: number | null;
            /** Kpi */
            kpi: string;
            /** Last Bucket */
            last_bucket: string | null;
            /** Meets */
            meets: boolean | null;
            /** Name En */
            name_en: string;
            /** Name Vi */
            name_vi: string;
            /** Numerator */
            numerator: number;
            /**
             * Quality
             * @enum {string}
             */
            quality: "ok" | "stale" | "no_data" | "low_volume";
            /** Reported */
            reported: components["schemas"]["Reported"][];
            /** Target */
            target: number | null;
            /** Trend */
            trend: components["schemas"]["TrendPoint"][];
            /** Unit */
            unit: string;
            /** Value */
            value: number | null;
        };
        /**
         * KpiInfo
         * @description One KPI of the catalogue.
         */
        KpiInfo: {
            /** By Level */
            by_level: {
                [key: string]: number;
            };
            /** Deadline */
            deadline: string | null;
            /**
             * Direction
             * @enum {string}
             */
            direction: "higher" | "lower";
            /**
             * Distinct
             * @description what a distinct-count KPI counts once
             */
            distinct: string | null;
            /** Feed */
            feed: string;
            /** Id */
            id: string;
            /** Name En */
            name_en: string;
            /** Name Vi */
            name_vi: string;
            /**
             * Reported
             * @description results reported for the KPI, never targets
             */
            reported: components["schemas"]["Reported"][];
            /**
             * Slo
             * @description an operational target the province sets
             */
            slo: boolean | null;
            /** Source */
            source: string | null;
            /** Target */
            target: number | null;
            /** Unit */
            unit: string;
        };
        /**
         * KpisCurrent
         * @description Every KPI in one area.
         */
        KpisCurrent: {
            area: components["schemas"]["Area"];
            /**
             * At
             * Format: date-time
             */
            at: string;
            /** Items */
            items: components["schemas"]["KpiCurrent"][];
        };
        /**
         * KpiSeries
         * @description One KPI's buckets over [start, end).
         */
        KpiSeries: {
            /** Area */
            area: string;
            /**
             * End
             * Format: date-time
             */
            end: string;
            /** Kpi */
            kpi: string;
            /** Points */
            points: components["schemas"]["SeriesPoint"][];
            /**
             * Resolution
             * @enum {string}
             */
            resolution: "1m" | "1h" | "1d";
            /**
             * Start
             * Format: date-time
             */
            start: string;
        };
        /**
         * MapChild
         * @description A child area on the board's map, with its status.
         */
        MapChild: {
            /** Below Target */
            below_target: number;
            /**
             * Bounds
             * @description [west, south, east, north] in degrees
             */
            bounds: [
                number,
                number,
                number,
                number
            ] | null;
            /** Code */
            code: string;
            /**
             * Estimated
             * @description population and households are estimates
             */
            estimated: boolean;
            /** Events Last Hour */
            events_last_hour: number;
            /** Firing */
            firing: number;
            /** Has Children */
            has_children: boolean;
            /** Households */
            households: number | null;
            /**
             * Lat
             * @description a point inside the area (WGS 84); null: none known
             */
            lat: number | null;
            /**
             * Level
             * @enum {string}
             */
            level: "province" | "district" | "commune";
            /** Lon */
            lon: number | null;
            /** Name En */
            name_en: string | null;
            /** Name Vi */
            name_vi: string;
            /** Parent */
            parent: string | null;
            /** Population */
            population: number | null;
            /**
             * Status
             * @enum {string}
             */
            status: "ok" | "warning" | "critical" | "no_data";
        };
        /**
         * MapResponse
         * @description An area's children today, coloured by status.
         */
        MapResponse: {
            area: components["schemas"]["Area"];
            basemap: components["schemas"]["Basemap"] | null;
            /** Children */
            children: components["schemas"]["MapChild"][];
        };
        /**
         * Me
         * @description The calling key.
         */
        Me: {
            /** Area */
            area: string | null;
            /** Area Name Vi */
            area_name_vi: string | null;
            /** Name */
            name: string;
            /** Permissions */
            permissions: ("read" | "ack" | "silence" | "dlq" | "metrics" | "audit" | "keys" | "report")[];
            /** Role */
            role: string;
        };
        /**
         * PeriodInfo
         * @description An official period in Vietnam's calendar.
         */
        PeriodInfo: {
            /**
             * End
             * Format: date-time
             */
            end: string;
            /**
             * First Day
             * Format: date
             */
            first_day: string;
            /** Kind */
            kind: string;
            /** Label */
            label: string;
            /** Label Vi */
            label_vi: string;
            /**
             * Last Day
             * Format: date
             */
            last_day: string;
            /**
             * Start
             * Format: date-time
             */
            start: string;
        };
        /**
         * PeriodItem
         * @description One KPI over the period, against its target.
         */
        PeriodItem: {
            /** Agencies */
            agencies: {
                [key: string]: unknown;
            }[];
            /** Deadline */
            deadline: string | null;
            /** Denominator */
            denominator: number;
            /**
             * Direction
             * @enum {string}
             */
            direction: "higher" | "lower";
            /** Distinct */
            distinct: string | null;
            /** Forecast */
            forecast: {
                [key: string]: unknown;
            } | null;
            /**
             * Gap
             * @description positive = short of the target by that much
             */
            gap: number | null;
            /** Kpi */
            kpi: string;
            /** Meets */
            meets: boolean | null;
            /** Name Vi */
            name_vi: string;
            /** Numerator */
            numerator: number;
            /** Source */
            source: string | null;
            /** Target */
            target: number | null;
            /** Trend */
            trend: {
                [key: string]: unknown;
            }[];
            /** Trend Per Day */
            trend_per_day: number | null;
            /** Unit */
            unit: string;
            /** Value */
            value: number | null;
            /** Worst Children */
            worst_children: {
                [key: string]: unknown;
            }[];
        };
        /**
         * PeriodValues
         * @description Every KPI over one period in one area.
         */
        PeriodValues: {
            area: components["schemas"]["Area"];
            /**
             * As Of
             * Format: date-time
             */
            as_of: string;
            /** Items */
            items: components["schemas"]["PeriodItem"][];
            period: components["schemas"]["PeriodInfo"];
        };
        /**
         * Problem
         * @description An error, RFC 9457 (``application/problem+json``); ``type`` opens a page that explains it.
         */
        Problem: {
            /** Detail */
            detail: string;
            /**
             * Errors
             * @description for 422 invalid-request: each field refused and why
             * @default null
             */
            errors?: components["schemas"]["InvalidField"][] | null;
            /** Status */
            status: number;
            /** Title */
            title: string;
            /**
             * Type
             * Format: uri-reference
             * @description names the problem: /problems/<slug>, a page that explains it
             */
            type: string;
        };
        /**
         * Ready
         * @description ``/readyz``: the database answers.
         */
        Ready: {
            /**
             * Status
             * @constant
             */
            status: "ready";
        };
        /**
         * ReplayBody
         * @description The dead letters to send back to their topics.
         */
        ReplayBody: {
            /** Ids */
            ids: string[];
        };
        /**
         * ReplayResult
         * @description Which dead letters went back to their topic, and which were refused and why.
         */
        ReplayResult: {
            /** Refused */
            refused: {
                [key: string]: unknown;
            }[];
            /** Replayed */
            replayed: string[];
        };
        /**
         * Reported
         * @description A result published for the KPI: what an area reached, when, and who said so.
         *
         *     A reported result is not a target: nothing is judged against it (no gap, no alert). It
         *     is shown beside the live value, e.g. Hưng Yên's 88,2 % of online services with at least
         *     one online dossier at the end of 2024.
         *
         *     Attributes:
         *         value: The reported figure; a fraction 0–1 for percent and ratio KPIs.
         *         year: The year the figure covers (give this or ``as_of``).
         *         as_of: The day the figure stands at (give this or ``year``).
         *         area: Who it was reported for, e.g. "tỉnh Hưng Yên".
         *         source: Where it was published, precise enough to find the sentence.
         *         estimate: True when a field (usually the year) is inferred, not printed in the source.
         */
        Reported: {
            /** Area */
            area: string;
            /** As Of */
            as_of?: string | null;
            /**
             * Estimate
             * @default false
             */
            estimate?: boolean;
            /** Source */
            source: string;
            /** Value */
            value: number;
            /** Year */
            year?: number | null;
        };
        /**
         * Scorecard
         * @description The QĐ 766 scorecard of an area by agency or child area, with the period before.
         */
        Scorecard: {
            area: components["schemas"]["Area"];
            /**
             * By
             * @enum {string}
             */
            by: "agency" | "commune";
            /** Decision */
            decision: string;
            /** Estimate Note */
            estimate_note: string;
            /** Groups */
            groups: components["schemas"]["ScoreGroup"][];
            period: components["schemas"]["PeriodInfo"];
            previous_period: components["schemas"]["PeriodInfo"];
            total: components["schemas"]["ScoreUnit"];
            /** Units */
            units: components["schemas"]["ScoreUnit"][];
        };
        /**
         * ScoreComponent
         * @description A component indicator of QĐ 766 as the scorecard measures it (or cannot).
         */
        ScoreComponent: {
            /** Id */
            id: string;
            /** Kpis */
            kpis: string[];
            /** Max Points */
            max_points: number | null;
            /**
             * Missing Source
             * @description no feed carries its data: where it would be
             */
            missing_source: string | null;
            /** Name Vi */
            name_vi: string;
            /** Note */
            note: string | null;
            /** Threshold */
            threshold: number;
        };
        /**
         * ScoreFigure
         * @description One component's figure for one unit (agency or area).
         */
        ScoreFigure: {
            /** Denominator */
            denominator: number | null;
            /** Id */
            id: string;
            /** Numerator */
            numerator: number | null;
            /**
             * Points
             * @description estimated; None without a value or a known maximum
             */
            points: number | null;
            /** Value */
            value: number | null;
        };
        /**
         * ScoreGroup
         * @description One of the five groups of QĐ 766/QĐ-TTg.
         */
        ScoreGroup: {
            /** Components */
            components: components["schemas"]["ScoreComponent"][];
            /** Max Points */
            max_points: number;
            /** Name Vi */
            name_vi: string;
            /** Number */
            number: number;
        };
        /**
         * ScoreUnit
         * @description An agency's or an area's scorecard line, ranked by ``score`` (points / possible).
         */
        ScoreUnit: {
            /** Change */
            change: number | null;
            /** Code */
            code: string;
            /** Components */
            components: components["schemas"]["ScoreFigure"][];
            /** Name Vi */
            name_vi: string;
            /** Points */
            points: number;
            /** Possible */
            possible: number;
            /** Previous Rank */
            previous_rank: number | null;
            /** Previous Score */
            previous_score: number | null;
            /** Rank */
            rank: number | null;
            /** Score */
            score: number | null;
        };
        /**
         * SeriesPoint
         * @description One stored bucket of a KPI.
         */
        SeriesPoint: {
            /**
             * Bucket
             * Format: date-time
             */
            bucket: string;
            /** Denominator */
            denominator: number;
            /** Numerator */
            numerator: number;
            /** Value */
            value: number | null;
        };
        /**
         * Silence
         * @description A silence: a rule (pattern) whose notifications are held back for a while.
         */
        Silence: {
            /** Area */
            area: string | null;
            /** Created By */
            created_by: string;
            /**
             * Ends At
             * Format: date-time
             */
            ends_at: string;
            /** Id */
            id: number;
            /** Reason */
            reason: string;
            /** Rule */
            rule: string;
            /**
             * Starts At
             * Format: date-time
             */
            starts_at: string;
        };
        /**
         * SilenceBody
         * @description Hold a rule's notifications back for a while; its alerts still fire and are kept.
         */
        SilenceBody: {
            /**
             * Area
             * @description unset: every area
             */
            area?: string | null;
            /**
             * Minutes
             * @description how long: at most a week with a province-wide key, at most IOC_API__AREA_SILENCE_MAX_MINUTES (default 12 h) with a key limited to an area
             */
            minutes: number;
            /** Reason */
            reason: string;
            /**
             * Rule
             * @description rule id or dvc_*
             */
            rule: string;
        };
        /**
         * SilenceList
         * @description The silences in force.
         */
        SilenceList: {
            /** Items */
            items: components["schemas"]["Silence"][];
        };
        /**
         * StreamEnd
         * @description The stream's last event: why it closes.
         */
        StreamEnd: {
            /** Reason */
            reason: string;
        };
        /**
         * StreamHealth
         * @description The stream workers counting a feed (province-wide keys only).
         */
        StreamHealth: {
            /** Counted */
            counted: number | null;
            /** Dead Lettered */
            dead_lettered: number | null;
            /** Duplicates */
            duplicates: number | null;
            /** Lag */
            lag: number | null;
            /** Late */
            late: number | null;
            /** Rate */
            rate: number | null;
            /** Watermark */
            watermark: string | null;
        };
        /**
         * TrendPoint
         * @description One hour of a KPI's trend.
         */
        TrendPoint: {
            /**
             * Bucket
             * Format: date-time
             */
            bucket: string;
            /** Value */
            value: number | null;
        };
        /**
         * WindowPage
         * @description Window rows, one page.
         */
        WindowPage: {
            /** Items */
            items: components["schemas"]["WindowRow"][];
            /** Limit */
            limit: number;
            /** Next Offset */
            next_offset: number | null;
            /** Offset */
            offset: number;
            /** Total */
            total: number;
        };
        /**
         * WindowRow
         * @description One window (or roll-up) of a metric in an area.
         */
        WindowRow: {
            /** Area */
            area: string;
            /** Count */
            count: number;
            /** Max */
            max: number | null;
            /** Metric */
            metric: string;
            /** Min */
            min: number | null;
            /** Sum */
            sum: number;
            /**
             * Window Start
             * Format: date-time
             */
            window_start: string;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
};
export type $defs = Record<string, never>;
export interface operations {
    alerts: {
        parameters: {
            query?: {
                area?: string | null;
                kpi?: string | null;
                /** @description page size */
                limit?: number;
                /** @description items to skip */
                offset?: number;
                rule?: string | null;
                severity?: ("info" | "warning" | "critical") | null;
                state?: ("open" | "firing" | "acknowledged" | "resolved") | null;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AlertPage"];
                };
            };
            /** @description Unauthorized (problem details) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Forbidden (problem details) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Not found (problem details) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Invalid request (problem details) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests (problem details) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal error (problem details) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Service unavailable (problem details) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    alert: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                alert_id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Alert"];
                };
            };
            /** @description Unauthorized (problem details) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Forbidden (problem details) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description no such alert */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Invalid request (problem details) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests (problem details) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal error (problem details) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Service unavailable (problem details) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    acknowledge: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                alert_id: number;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["AckBody"] | null;
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Alert"];
                };
            };
            /** @description Unauthorized (problem details) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Forbidden (problem details) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description no such alert */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description not firing */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Invalid request (problem details) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests (problem details) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal error (problem details) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Service unavailable (problem details) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    alert_history: {
        parameters: {
            query?: {
                /** @description page size */
                limit?: number;
                /** @description items to skip */
                offset?: number;
            };
            header?: never;
            path: {
                alert_id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AlertHistoryPage"];
                };
            };
            /** @description Unauthorized (problem details) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Forbidden (problem details) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description no such alert */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Invalid request (problem details) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests (problem details) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal error (problem details) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Service unavailable (problem details) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    areas: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AreaList"];
                };
            };
            /** @description Unauthorized (problem details) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Forbidden (problem details) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests (problem details) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal error (problem details) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Service unavailable (problem details) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    area: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                code: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Area"];
                };
            };
            /** @description Unauthorized (problem details) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Forbidden (problem details) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description no such area */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Invalid request (problem details) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests (problem details) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal error (problem details) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Service unavailable (problem details) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    audit_log: {
        parameters: {
            query?: {
                action?: string | null;
                /** @description page size */
                limit?: number;
                /** @description items to skip */
                offset?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AuditPage"];
                };
            };
            /** @description Unauthorized (problem details) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Forbidden (problem details) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Invalid request (problem details) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests (problem details) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal error (problem details) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Service unavailable (problem details) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    dead_letters: {
        parameters: {
            query?: {
                /** @description page size */
                limit?: number;
                /** @description items to skip */
                offset?: number;
                reason?: string | null;
                source?: string | null;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DeadLetterPage"];
                };
            };
            /** @description Unauthorized (problem details) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Forbidden (problem details) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Invalid request (problem details) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests (problem details) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal error (problem details) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Service unavailable (problem details) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    replay: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ReplayBody"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ReplayResult"];
                };
            };
            /** @description Unauthorized (problem details) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Forbidden (problem details) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Invalid request (problem details) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests (problem details) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal error (problem details) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Service unavailable (problem details) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    entities: {
        parameters: {
            query?: {
                /** @description area code */
                area?: string | null;
                /** @description next_cursor */
                cursor?: string | null;
                /** @description a feed whose events report states (camera, network, dvc, or a declared one); repeat for several */
                feed?: string[] | null;
                /** @description camera, special_network, agency_lan, cell_site, broadband, service */
                kind?: string | null;
                /** @description page size */
                limit?: number;
                /** @description minutes without a report = silent */
                silent_minutes?: number;
                state?: ("down" | "silent" | "up") | null;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["EntitiesPage"];
                };
            };
            /** @description cursor not from this list */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unauthorized (problem details) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description area outside the key's scope */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description unknown area */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description unknown feed or invalid parameter */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests (problem details) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal error (problem details) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Service unavailable (problem details) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    feeds: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Feeds"];
                };
            };
            /** @description Unauthorized (problem details) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Forbidden (problem details) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests (problem details) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal error (problem details) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Service unavailable (problem details) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    indicators: {
        parameters: {
            query?: {
                area?: string | null;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["IndicatorList"];
                };
            };
            /** @description Unauthorized (problem details) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Forbidden (problem details) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description no such area */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Invalid request (problem details) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests (problem details) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal error (problem details) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Service unavailable (problem details) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    indicator_history: {
        parameters: {
            query?: {
                area?: string | null;
            };
            header?: never;
            path: {
                indicator: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["IndicatorHistory"];
                };
            };
            /** @description Unauthorized (problem details) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Forbidden (problem details) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description no such indicator or area */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Invalid request (problem details) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests (problem details) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal error (problem details) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Service unavailable (problem details) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    indicator_template: {
        parameters: {
            query?: {
                area?: string | null;
                /** @description also a row for each commune below */
                communes?: boolean;
            };
            header?: never;
            path: {
                fmt: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": string;
                    "text/csv; charset=utf-8": string;
                };
            };
            /** @description Unauthorized (problem details) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Forbidden (problem details) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description no such template or area */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Invalid request (problem details) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests (problem details) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal error (problem details) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Service unavailable (problem details) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    upload: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": string;
                "text/csv; charset=utf-8": string;
            };
        };
        responses: {
            /** @description Successful Response */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["IndicatorUpload"];
                };
            };
            /** @description Unauthorized (problem details) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Forbidden (problem details) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description the file is larger than 2 MB */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Invalid request (problem details) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests (problem details) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal error (problem details) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Service unavailable (problem details) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    enter_value: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["EntryBody"];
            };
        };
        responses: {
            /** @description Successful Response */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["IndicatorEntry"];
                };
            };
            /** @description Unauthorized (problem details) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Forbidden (problem details) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description no such indicator or area */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Invalid request (problem details) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests (problem details) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal error (problem details) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Service unavailable (problem details) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    kpis: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["KpiCatalogue"];
                };
            };
            /** @description Unauthorized (problem details) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Forbidden (problem details) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests (problem details) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal error (problem details) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Service unavailable (problem details) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    kpi_events: {
        parameters: {
            query?: {
                /** @description area code; default: the key's area */
                area?: string | null;
                /** @description a bucket start */
                bucket?: string | null;
                /** @description next_cursor of a page */
                cursor?: string | null;
                /** @description csv: the whole list */
                format?: "json" | "csv";
                /** @description span start */
                from?: string | null;
                limit?: number;
                /** @description whose events: the numerator's or the denominator's */
                part?: "numerator" | "denominator";
                /** @description the bucket's width; 1h when unset */
                resolution?: ("1m" | "1h" | "1d") | null;
                /** @description span end, excluded */
                to?: string | null;
            };
            header?: never;
            path: {
                kpi: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description a page of events (JSON) or, with format=csv, the CSV export */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DrillPage"];
                    "text/csv": string;
                };
            };
            /** @description Unauthorized (problem details) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Forbidden (problem details) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description no such KPI or area */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Invalid request (problem details) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests (problem details) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal error (problem details) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Service unavailable (problem details) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    kpi_series: {
        parameters: {
            query?: {
                area?: string | null;
                end?: string | null;
                resolution?: "1m" | "1h" | "1d";
                start?: string | null;
            };
            header?: never;
            path: {
                kpi: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["KpiSeries"];
                };
            };
            /** @description Unauthorized (problem details) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Forbidden (problem details) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description no such KPI or area */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Invalid request (problem details) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests (problem details) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal error (problem details) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Service unavailable (problem details) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    kpis_current: {
        parameters: {
            query?: {
                area?: string | null;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["KpisCurrent"];
                };
            };
            /** @description Unauthorized (problem details) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Forbidden (problem details) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description no such area */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Invalid request (problem details) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests (problem details) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal error (problem details) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Service unavailable (problem details) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    kpi_periods: {
        parameters: {
            query: {
                area?: string | null;
                period: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PeriodValues"];
                };
            };
            /** @description Unauthorized (problem details) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Forbidden (problem details) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description no such area */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Invalid request (problem details) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests (problem details) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal error (problem details) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Service unavailable (problem details) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    area_map: {
        parameters: {
            query?: {
                area?: string | null;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["MapResponse"];
                };
            };
            /** @description Unauthorized (problem details) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Forbidden (problem details) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description no such area */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Invalid request (problem details) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests (problem details) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal error (problem details) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Service unavailable (problem details) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    me: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Me"];
                };
            };
            /** @description Unauthorized (problem details) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Forbidden (problem details) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests (problem details) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal error (problem details) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Service unavailable (problem details) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    report: {
        parameters: {
            query?: {
                area?: string | null;
            };
            header?: never;
            path: {
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/pdf": string;
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": string;
                };
            };
            /** @description Unauthorized (problem details) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Forbidden (problem details) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description no such report or area */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Invalid request (problem details) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests (problem details) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal error (problem details) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Service unavailable (problem details) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    scorecard: {
        parameters: {
            query?: {
                area?: string | null;
                by?: "agency" | "commune";
                period?: string | null;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Scorecard"];
                };
            };
            /** @description Unauthorized (problem details) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Forbidden (problem details) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Not found (problem details) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Invalid request (problem details) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests (problem details) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal error (problem details) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Service unavailable (problem details) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    silences: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SilenceList"];
                };
            };
            /** @description Unauthorized (problem details) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Forbidden (problem details) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests (problem details) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal error (problem details) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Service unavailable (problem details) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    create_silence: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["SilenceBody"];
            };
        };
        responses: {
            /** @description Successful Response */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Silence"];
                };
            };
            /** @description Unauthorized (problem details) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Forbidden (problem details) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description no such area */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Invalid request (problem details) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests (problem details) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal error (problem details) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Service unavailable (problem details) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    delete_silence: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                silence_id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Unauthorized (problem details) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Forbidden (problem details) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description no such silence in force */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Invalid request (problem details) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests (problem details) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal error (problem details) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Service unavailable (problem details) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    stream: {
        parameters: {
            query?: {
                area?: string | null;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/event-stream": unknown;
                };
            };
            /** @description Unauthorized (problem details) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Forbidden (problem details) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Not found (problem details) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Invalid request (problem details) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests (problem details) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal error (problem details) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Service unavailable (problem details) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    windows: {
        parameters: {
            query: {
                area?: string | null;
                end?: string | null;
                /** @description page size */
                limit?: number;
                metric: string;
                /** @description items to skip */
                offset?: number;
                resolution?: "1m" | "1h" | "1d";
                start?: string | null;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WindowPage"];
                };
            };
            /** @description Unauthorized (problem details) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Forbidden (problem details) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description no such metric */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Invalid request (problem details) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests (problem details) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal error (problem details) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Service unavailable (problem details) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    healthz: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Health"];
                };
            };
            /** @description Internal error (problem details) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Service unavailable (problem details) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    metrics: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/plain": string;
                };
            };
            /** @description Unauthorized (problem details) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Forbidden (problem details) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests (problem details) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal error (problem details) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Service unavailable (problem details) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    problem_page: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                slug: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/html": string;
                };
            };
            /** @description no such problem */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Invalid request (problem details) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal error (problem details) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Service unavailable (problem details) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    readyz: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Ready"];
                };
            };
            /** @description Internal error (problem details) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description database unreachable */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
}
