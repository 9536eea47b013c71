#!/usr/bin/env python3
"""Generates jinja_cases.json: template snippets rendered by jinja2 in the
environment transformers uses for chat templates (ImmutableSandboxedEnvironment,
trim_blocks, lstrip_blocks, loopcontrols, its tojson, raise_exception and
strftime_now with a fixed clock). The Go interpreter in
mlxrt/chattmpl/internal/jinja must render every case identically.

Run: python3 mlxrt/chattmpl/testdata/gen_jinja_cases.py  (needs jinja2 3.x)
"""
import datetime
import json
import os

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

NOW = datetime.datetime(2025, 1, 2, 3, 4, 5)


def env():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(fmt):
        return NOW.strftime(fmt)

    e = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    e.filters["tojson"] = tojson
    e.globals["raise_exception"] = raise_exception
    e.globals["strftime_now"] = strftime_now
    return e


VARS = {
    "msgs": [
        {"role": "system", "content": "  Be brief.\n"},
        {"role": "user", "content": "Hi «there» 👋"},
        {"role": "assistant", "content": "Hello!", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": {"b": 1, "a": [1, 2.5, None, True]}}}]},
        {"role": "tool", "content": "{\"ok\": true}", "tool_call_id": "c1"},
    ],
    "d": {"z": 1, "a": "x", "m": [3, 1, 2]},
    "s": "Hello, World",
    "n": 7,
    "f": 2.5,
    "empty": [],
    "nested": {"a": {"b": {"c": "deep"}}},
    "words": ["banana", "Apple", "cherry", "apple"],
    "people": [{"name": "Ann", "age": 31}, {"name": "bob", "age": 25}, {"name": "Cid", "age": 31}],
}

SNIPPETS = [
    # output and literals
    "{{ 1 }} {{ -1 }} {{ 1.5 }} {{ 1e3 }} {{ 2.0 }} {{ 1e16 }} {{ 1e-5 }} {{ 0.1 + 0.2 }} {{ 10 / 4 }} {{ 10 / 5 }}",
    "{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 7.5 // 2 }} {{ -7.5 % 2 }}",
    "{{ none }} {{ None }} {{ true }} {{ False }} {{ [1, 'a', none, true, 1.0] }} {{ (1,) }} {{ (1, 2) }} {{ () }}",
    "{{ {'a': 1, 'b': [1, {'c': none}]} }} {{ d }} {{ \"it's\" }} {{ ['it\\'s', \"q\\\"\"] }}",
    "{{ 'a' ~ 1 ~ none ~ true }} {{ 'ab' * 3 }} {{ [1, 2] * 2 }} {{ [1] + [2] }} {{ 'x' + 'y' }}",
    "{{ '%s and %s' % ('a', 'b') }} {{ '%d%%' % 5 }} {{ '%05.2f' % 3.14159 }} {{ '%(x)s' % {'x': 1} }} {{ 'v=%r' % 'q' }}",
    "{{ 'line\\nnext\\ttab\\u00e9\\x41' }}",
    # comparisons and logic
    "{{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ none == none }}",
    "{{ 'a' in 'cat' }} {{ 2 in [1, 2] }} {{ 'z' in d }} {{ 'q' not in d }} {{ not true }} {{ not 0 and 1 }} {{ 0 or 'x' }} {{ '' or [] }}",
    "{{ 1 if n > 5 else 2 }} {{ (s if s is string else 'no') | upper }} {{ [n if n else 0, 'b'] if false else 'ok' }} {{ 'yes' if none }}|",
    "{{ (n > 5) and (f < 3) }} {{ -n | abs }} {{ - 3 ** 2 }} {{ (-3) ** 2 }}",
    # attribute and item access
    "{{ d.z }} {{ d['a'] }} {{ d.m[0] }} {{ d.m[-1] }} {{ nested.a.b.c }} {{ nested['a']['b'] }} {{ msgs[1].content }}",
    "{{ d.missing }}|{{ d.missing is defined }}|{{ d.get('missing', 'dflt') }}|{{ d.get('z') }}|{{ d.get('q') }}",
    "{{ s[0] }} {{ s[-1] }} {{ s[1:4] }} {{ s[::-1] }} {{ s[:-3] }} {{ 'héllo'[1] }} {{ 'héllo'[1:3] }} {{ d.m[1:] }} {{ d.m[::2] }}",
    "{{ msgs | length }} {{ s | length }} {{ d | length }} {{ 'héllo' | length }} {{ undefined_var | length }}",
    # string methods
    "[{{ '  x y  '.strip() }}][{{ 'xxhixx'.strip('x') }}][{{ '  a'.lstrip() }}][{{ 'a  '.rstrip() }}][{{ '\\n\\nA\\n'.strip('\\n') }}]",
    "{{ 'a,b,,c'.split(',') }} {{ ' a  b '.split() }} {{ 'a b c'.split(' ', 1) }} {{ 'a.b.c'.rsplit('.', 1) }} {{ 'x'.split('y') }}",
    "{{ s.startswith('Hell') }} {{ s.endswith(('x', 'ld')) }} {{ s.upper() }} {{ s.lower() }} {{ \"they're bill's\".title() }} {{ 'hELLO'.capitalize() }}",
    "{{ s.replace('l', 'L') }} {{ s.replace('l', 'L', 1) }} {{ s.find('o') }} {{ s.find('q') }} {{ s.count('l') }} {{ '-'.join(['a', 'b']) }}",
    "{{ '12'.isdigit() }} {{ 'ab'.isalpha() }} {{ 'a1'.isalnum() }} {{ '  '.isspace() }} {{ 'AB'.isupper() }} {{ 'ab'.islower() }}",
    "{{ '{} and {}'.format('x', 1) }} {{ '{0}{0}{name}'.format('r', name='n') }} {{ 'a\\nb\\r\\nc'.splitlines() }} {{ 'pre_x'.removeprefix('pre_') }}",
    # filters
    "{{ s | upper }} {{ s | lower }} {{ 'a-b c(d' | title }} {{ 'hello world' | capitalize }} {{ '  t  ' | trim }} {{ 'xxtxx' | trim('x') }}",
    "{{ undefined_var | default('dv') }} {{ '' | default('dv') }} {{ '' | default('dv', true) }} {{ none | default('dv') }} {{ 0 | d('z', boolean=true) }}",
    "{{ words | first }} {{ words | last }} {{ words | join(', ') }} {{ words | sort | join(',') }} {{ words | sort(reverse=true) | join(',') }} {{ words | sort(case_sensitive=true) | join(',') }}",
    "{{ people | map(attribute='name') | join('/') }} {{ people | selectattr('age', 'equalto', 31) | map(attribute='name') | list }} {{ people | rejectattr('age', 'gt', 30) | list }}",
    "{{ people | sort(attribute='age') | map(attribute='name') | list }} {{ people | sum(attribute='age') }} {{ people | max(attribute='age') }} {{ [3, 1, 2] | min }}",
    "{{ [1, 2, 3, 4] | select('odd') | list }} {{ [1, 2, 3, 4] | reject('even') | list }} {{ [0, 1, '', 'a'] | select | list }} {{ words | unique | list }}",
    "{{ d | items | list }} {{ d | dictsort }} {{ d.items() | list }} {{ d.keys() | list }} {{ d.values() | list }} {{ d | list }}",
    "{{ [1, 2, 3] | reverse | list }} {{ 'abc' | reverse }} {{ '42' | int + 1 }} {{ 'x' | int }} {{ 3.9 | int }} {{ '2.5' | float }} {{ 2.675 | round(2) }} {{ 2.5 | round }} {{ 3.5 | round }}",
    "{{ ['a', 'b'] | map('upper') | list }} {{ 'a\\nb' | indent(2) }}|{{ 'a\\nb' | indent(2, true) }} {{ 'x' | center(5) }}| {{ 'one two three' | wordcount }}",
    "{{ 'abcdefghijklmnop' | truncate(9) }} {{ 'hello big world here' | truncate(12) }} {{ [1, 2, 3, 4, 5] | batch(2) | list }} {{ '<b>x</b>  y' | striptags }} {{ '<a&b>' | e }}",
    "{{ people | groupby('age') | list }} {{ '%s-%s' | format('a', 'b') }} {{ 5 | string ~ 'x' }} {{ -3 | abs }} {{ d | attr('z') }}",
    # tojson
    "{{ d | tojson }} {{ msgs[2] | tojson }} {{ 'é\"\\n\\u2028' | tojson }} {{ [] | tojson }} {{ {} | tojson }} {{ 1.0 | tojson }} {{ none | tojson }}",
    "{{ d | tojson(indent=2) }}\n{{ msgs[2].tool_calls | tojson(indent=4) }}\n{{ d | tojson(sort_keys=true) }} {{ d | tojson(separators=(',', ':')) }} {{ 'é' | tojson(ensure_ascii=true) }}",
    # tests
    "{{ none is none }} {{ 1 is none }} {{ undefined_var is defined }} {{ d is mapping }} {{ msgs is sequence }} {{ s is string }} {{ 1 is number }} {{ 1.5 is float }} {{ 1 is integer }} {{ true is boolean }}",
    "{{ 4 is even }} {{ 3 is odd }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(4) }} {{ 'a' is in 'abc' }} {{ 1 is eq 1 }} {{ 2 is gt 1 }} {{ none is sameas none }} {{ s is not none }} {{ d is iterable }}",
    "{{ 'ABC' is upper }} {{ 'abc' is lower }} {{ undefined_var is undefined }} {{ d.z is true }} {{ false is false }} {{ true is true }} {{ msgs is string }} {{ d is sequence }}",
    # control flow
    "{% for m in msgs %}{{ loop.index }}/{{ loop.length }}:{{ m.role }}{% if loop.first %}F{% endif %}{% if loop.last %}L{% endif %}{{ loop.revindex0 }} {% endfor %}",
    "{% for m in msgs if m.role != 'system' %}{{ loop.index0 }}{{ m.role[0] }}{% else %}none{% endfor %}|{% for x in empty %}x{% else %}empty{% endfor %}",
    "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %} {% for k in d %}{{ k }}{% endfor %} {% for c in 'héy' %}[{{ c }}]{% endfor %}",
    "{% for i in range(5) %}{% if i == 1 %}{% continue %}{% endif %}{% if i == 4 %}{% break %}{% endif %}{{ i }}{% endfor %} {{ range(3) | list }} {{ range(1, 10, 3) | list }} {{ range(5, 0, -2) | list }}",
    "{% for x in [1, 2, 3] %}{{ loop.previtem is defined }}{{ loop.nextitem | default('-') }}{{ loop.cycle('a', 'b') }} {% endfor %}",
    "{% for a in [1, 2] %}{% for b in [3, 4] %}{{ loop.index }}{{ a }}{{ b }} {% endfor %}{{ loop.index }}|{% endfor %}",
    "{% set x = 1 %}{% for i in [1, 2] %}{{ x }}{% set x = i + 10 %}{{ x }}{% endfor %}|{{ x }}",
    "{% if true %}{% set y = 5 %}{% endif %}{{ y }} {% set a, b = 1, 2 %}{{ a }}{{ b }} {% set t = (3, 4) %}{% set p, q = t %}{{ p + q }}",
    "{% set ns = namespace(total=0, names=[]) %}{% for p in people %}{% set ns.total = ns.total + p.age %}{% set ns.names = ns.names + [p.name] %}{% endfor %}{{ ns.total }} {{ ns.names }}",
    "{% set block %}Hello {{ s }}{% endset %}[{{ block }}] {% set up | upper %}shout{% endset %}{{ up }}",
    "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('Ann') }} {{ greet('Bob', '?') }} {{ greet(punct='.', name='Cy') }}",
    "{% macro rec(n) %}{% if n > 0 %}{{ n }}{{ rec(n - 1) }}{% endif %}{% endmacro %}{{ rec(4) }}",
    "{% macro show(v) %}{% if v is mapping %}{{ '{' }}{% for k, x in v.items() %}{{ k }}:{{ show(x) }},{% endfor %}{{ '}' }}{% elif v is iterable and v is not string %}[{% for x in v %}{{ show(x) }}{% endfor %}]{% else %}{{ v }}{% endif %}{% endmacro %}{{ show(d) }}",
    "{% filter upper %}shout {{ s }}{% endfilter %} {% with w = 5 %}{{ w }}{% endwith %}{{ w is defined }}",
    "{{ strftime_now('%Y-%m-%d %H:%M:%S %b %B %a %A %d %j %p %I') }} {{ strftime_now('%d %b %Y') }}",
    "{% raw %}{{ not rendered }} {% if %}{% endraw %} after",
    # whitespace control
    "a\n  {% if true %}\n    b\n  {% endif %}\nc\n",
    "a   {%- if true -%}   b   {%- endif -%}   c",
    "{{- ' x ' -}}\n\n  {{ 'y' }}  \n{#- comment -#}\n  z",
    "line1\n    {# comment #}\nline2\n{%+ if true %}kept{% endif %}\n",
    "{% for i in [1, 2] %}\n  - {{ i }}\n{% endfor %}\ndone",
    "  {% set x = 1 %}\n  {{ x }}\n{%- for i in [1] +%}\n{{ i }}{% endfor %}",
    "{% if true %}  yes  {% else %}no{% endif %}\n\n",
    # sandbox and errors
    "{{ raise_exception('custom failure: ' ~ 3) }}",
    "{% set l = [1] %}{{ l.append(2) }}",
    "{{ undefined_var.attr }}",
    "{{ d.missing.deeper }}",
    "{{ 1 + 'a' }}",
    "{{ none.x }}",
    "{% for x in 5 %}{% endfor %}",
]

TEMPLATES = {
    "chatml-tools": r"""{%- if tools %}
{{- '<|im_start|>system\n' }}
{%- if messages[0].role == 'system' %}{{ messages[0].content | trim }}{{ '\n\n' }}{% endif %}
{{- 'Tools:\n' }}
{%- for tool in tools %}
{{- (tool.function if tool.function is defined else tool) | tojson }}{{ '\n' }}
{%- endfor %}
{{- '<|im_end|>\n' }}
{%- elif messages[0].role == 'system' %}
{{- '<|im_start|>system\n' + messages[0].content + '<|im_end|>\n' }}
{%- endif %}
{%- for message in messages %}
{%- if message.role == 'user' or (message.role == 'assistant' and not message.tool_calls) %}
{{- '<|im_start|>' + message.role + '\n' + (message.content if message.content is string else '') + '<|im_end|>\n' }}
{%- elif message.role == 'assistant' %}
{{- '<|im_start|>assistant' }}
{%- if message.content %}{{ '\n' + message.content }}{% endif %}
{%- for call in message.tool_calls %}
{%- set fn = call.function if call.function else call %}
{{- '\n<tool_call>\n{"name": "' ~ fn.name ~ '", "arguments": ' }}
{%- if fn.arguments is string %}{{ fn.arguments }}{% else %}{{ fn.arguments | tojson }}{% endif %}
{{- '}\n</tool_call>' }}
{%- endfor %}
{{- '<|im_end|>\n' }}
{%- elif message.role == 'tool' %}
{%- if loop.index0 == 0 or messages[loop.index0 - 1].role != 'tool' %}{{ '<|im_start|>user' }}{% endif %}
{{- '\n<tool_response>\n' + message.content + '\n</tool_response>' }}
{%- if loop.last or messages[loop.index0 + 1].role != 'tool' %}{{ '<|im_end|>\n' }}{% endif %}
{%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}""",
    "header-date": r"""{{ bos_token }}
{%- set date = strftime_now("%d %B %Y") %}
{%- set ns = namespace(sys=none) %}
{%- if messages[0]['role'] == 'system' %}{% set ns.sys = messages[0]['content'] | trim %}{% endif %}
<|start|>system
Today: {{ date }}
{% if ns.sys is not none %}{{ ns.sys }}
{% endif %}
{% for message in messages[1:] if message.role != 'system' %}
<|start|>{{ message.role | upper }}
{{ message.content | trim }}
{% endfor %}
{% if add_generation_prompt %}<|start|>ASSISTANT
{% endif %}""",
}

TEMPLATE_INPUTS = [
    ("chatml-tools", {"messages": VARS["msgs"], "tools": [{"type": "function", "function": {"name": "f", "description": "d", "parameters": {"type": "object", "properties": {"b": {"type": "integer"}}}}}], "add_generation_prompt": True}),
    ("chatml-tools", {"messages": VARS["msgs"][:2], "tools": None, "add_generation_prompt": False}),
    ("header-date", {"messages": VARS["msgs"][:2], "bos_token": "<s>", "add_generation_prompt": True}),
    ("header-date", {"messages": VARS["msgs"][1:2], "bos_token": "<s>", "add_generation_prompt": False}),
]


def main():
    e = env()
    cases = []
    for i, src in enumerate(SNIPPETS):
        case = {"name": "snippet-%02d" % i, "template": src, "vars": VARS}
        try:
            case["rendered"] = e.from_string(src).render(**VARS)
        except Exception as ex:  # noqa: BLE001
            case["error"] = "%s: %s" % (type(ex).__name__, ex)
        cases.append(case)
    for i, (name, inputs) in enumerate(TEMPLATE_INPUTS):
        case = {"name": "%s-%d" % (name, i), "template": TEMPLATES[name], "vars": inputs}
        try:
            case["rendered"] = e.from_string(TEMPLATES[name]).render(**inputs)
        except Exception as ex:  # noqa: BLE001
            case["error"] = "%s: %s" % (type(ex).__name__, ex)
        cases.append(case)
    out = {"generator": "gen_jinja_cases.py", "jinja2": jinja2.__version__, "now": NOW.isoformat(), "cases": cases}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "jinja_cases.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print("wrote %d cases to %s" % (len(cases), path))


if __name__ == "__main__":
    main()
