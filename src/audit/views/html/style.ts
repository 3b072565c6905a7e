// The report's one stylesheet, inlined; the page's Content-Security-Policy
// allows exactly this text (by its hash) and nothing else. Colours follow the
// reader's setting (prefers-color-scheme); every state also has a symbol and
// a text, for colour-blind readers and for paper.
export const STYLE = `
:root{color-scheme:light dark;--bg:#fff;--fg:#1b1f24;--dim:#5b6470;--line:#d6dbe1;--head:#f2f4f7;
--ok:#1a7f37;--okbg:#d6f5dd;--bad:#b42318;--badbg:#fde2df;--ref:#9a5b00;--refbg:#fff0cc;--run:#1f5fbf;--runbg:#dce9fc;
--unk:#56616e;--unkbg:#e8ebef;--none:#8a939e;--nonebg:#fff}
@media (prefers-color-scheme:dark){:root{--bg:#14171b;--fg:#e4e8ed;--dim:#9aa4b0;--line:#333a43;--head:#1d2127;
--ok:#5cd27a;--okbg:#173d23;--bad:#ff8a7d;--badbg:#4a1c18;--ref:#f5be55;--refbg:#43330f;--run:#7fb0ff;--runbg:#1b2d4d;
--unk:#b5bec9;--unkbg:#2a3038;--none:#6d7782;--nonebg:#14171b}}
body{background:var(--bg);color:var(--fg);font:13px/1.4 "DejaVu Sans",system-ui,sans-serif;margin:16px 20px}
h1{font-size:18px;margin:0 0 4px}h2{font-size:15px;margin:22px 0 6px}
.meta,.note{color:var(--dim);margin:2px 0}
.fleet{font-size:15px;margin:8px 0 14px;padding:8px 10px;border:1px solid var(--line);background:var(--head)}
.fleet b{font-weight:700}.fleet .bad{color:var(--bad)}.fleet .good{color:var(--ok)}
table{border-collapse:collapse;margin:4px 0}
th,td{border:1px solid var(--line);padding:2px 5px;text-align:left;vertical-align:top}
thead th{background:var(--head);font-weight:600}
table.timeline td.n{padding:0;width:20px;height:20px;text-align:center;position:relative}
table.timeline thead th.d{font-size:10px;font-weight:400;text-align:center;padding:1px 0;width:20px}
td.n span{display:block;line-height:20px;cursor:default}
td.n span:hover::after,td.n span:focus::after{content:attr(aria-label);position:absolute;z-index:2;left:50%;top:22px;
transform:translateX(-50%);width:max-content;max-width:420px;white-space:normal;background:var(--fg);color:var(--bg);padding:4px 6px;font-size:12px;text-align:left;border-radius:3px}
td.n span:focus{outline:2px solid var(--run);outline-offset:-2px}
.completed{color:var(--ok);background:var(--okbg)}.failed{color:var(--bad);background:var(--badbg);font-weight:700}
.refused{color:var(--ref);background:var(--refbg);font-weight:700}.running{color:var(--run);background:var(--runbg)}
.unknown{color:var(--unk);background:var(--unkbg)}.nothing{color:var(--none);background:var(--nonebg)}.pending{color:var(--none)}
.legend span{display:inline-block;padding:0 6px;margin-right:6px;border:1px solid var(--line)}
code{font:12px "DejaVu Sans Mono",monospace;word-break:break-all}
td.num{text-align:right}
@page{size:A4 landscape;margin:10mm}
@media print{body{margin:0;font-size:10px}td.n span::after{display:none}table.timeline td.n,table.timeline thead th.d{width:15px;height:15px}
td.n span{line-height:15px}*{print-color-adjust:exact;-webkit-print-color-adjust:exact}tr{break-inside:avoid}}
`;
