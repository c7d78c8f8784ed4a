"""An external MCP client for Patchbay's MCP endpoint: the official MCP Python SDK
(`pip install mcp`) over Streamable HTTP.

Run by `tests/mcp.rs`. Reads a JSON object of MCP server URLs on stdin (`full`,
`read_only`, `unified`, `sandbox`, `revoked`, `expired`), drives them as an agent's client would
(initialize, ping, tools/list, tools/call) and prints one JSON report on stdout: what the
server answered, for the Rust test to check. It asserts nothing itself.
"""

import asyncio
import json
import sys

from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client


def tool_result(result):
    """A tool call's result as plain JSON."""
    texts = [block.text for block in result.content if getattr(block, "type", None) == "text"]
    return {
        "is_error": bool(result.is_error),
        "text": "".join(texts),
        "structured": result.structured_content,
    }


async def with_session(url, work):
    """Runs `work(session, initialize_result)` on a fresh initialized session of `url`."""
    async with streamable_http_client(url) as (read, write):
        async with ClientSession(read, write) as session:
            initialized = await session.initialize()
            return await work(session, initialized)


async def full_server(session, initialized):
    report = {
        "server_name": initialized.server_info.name,
        "protocol_version": initialized.protocol_version,
        "has_tools_capability": initialized.capabilities.tools is not None,
    }
    await session.send_ping()
    report["ping"] = "ok"
    tools = (await session.list_tools()).tools
    report["tools"] = [
        {"name": t.name, "description": t.description, "input_schema": t.input_schema}
        for t in tools
    ]
    first = await session.call_tool("list_all_zendesk_tickets", {"limit": 2})
    report["page1"] = tool_result(first)
    cursor = (first.structured_content or {}).get("next_cursor")
    second = await session.call_tool(
        "list_all_zendesk_tickets", {"limit": 2, "next_cursor": cursor}
    )
    report["page2"] = tool_result(second)
    report["get"] = tool_result(
        await session.call_tool("get_single_zendesk_ticket_by_id", {"id": "3"})
    )
    report["create"] = tool_result(
        await session.call_tool(
            "create_a_zendesk_ticket",
            {"subject": "Printer on fire", "comment": {"body": "Send help"}},
        )
    )
    report["provider_error"] = tool_result(
        await session.call_tool("get_single_zendesk_ticket_by_id", {"id": "999999"})
    )
    report["missing_argument"] = tool_result(
        await session.call_tool("get_single_zendesk_ticket_by_id", {})
    )
    try:
        await session.call_tool("drop_all_tables", {})
        report["unknown_tool"] = "answered"
    except Exception as error:  # the SDK raises the JSON-RPC error
        report["unknown_tool"] = f"{type(error).__name__}: {error}"
    return report


async def read_only_server(session, _initialized):
    tools = (await session.list_tools()).tools
    report = {"tools": [t.name for t in tools]}
    try:
        result = await session.call_tool("create_a_zendesk_ticket", {"subject": "x"})
        report["write_call"] = tool_result(result)
    except Exception as error:
        report["write_call"] = f"{type(error).__name__}: {error}"
    return report


async def unified_server(session, _initialized):
    """A server filtered to unified tools: the ticketing model over Zendesk."""
    tools = (await session.list_tools()).tools
    first = await session.call_tool("list_all_ticketing_tickets", {"limit": 2})
    cursor = (first.structured_content or {}).get("next_cursor")
    second = await session.call_tool(
        "list_all_ticketing_tickets", {"limit": 2, "next_cursor": cursor}
    )
    return {
        "tools": [t.name for t in tools],
        "page1": tool_result(first),
        "page2": tool_result(second),
        "get": tool_result(
            await session.call_tool("get_single_ticketing_ticket_by_id", {"id": "2"})
        ),
    }


async def sandbox_server(session, _initialized):
    return {
        "write": tool_result(
            await session.call_tool("create_a_zendesk_ticket", {"subject": "x"})
        ),
        "read": tool_result(
            await session.call_tool("get_single_zendesk_ticket_by_id", {"id": "1"})
        ),
    }


async def refused(url):
    """What connecting to a refused URL raised (it must raise)."""
    try:
        await with_session(url, lambda session, init: asyncio.sleep(0))
        return "connected"
    except BaseException as error:  # noqa: BLE001 - the report names whatever was raised
        return f"{type(error).__name__}: {error!r}"


async def main():
    urls = json.load(sys.stdin)
    report = {
        "full": await with_session(urls["full"], full_server),
        "read_only": await with_session(urls["read_only"], read_only_server),
        "unified": await with_session(urls["unified"], unified_server),
        "sandbox": await with_session(urls["sandbox"], sandbox_server),
        "revoked": await asyncio.wait_for(refused(urls["revoked"]), 30),
        "expired": await asyncio.wait_for(refused(urls["expired"]), 30),
    }
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    asyncio.run(main())
