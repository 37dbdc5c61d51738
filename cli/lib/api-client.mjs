/**
 * The one API call the CLI makes. Outcomes are data: `{ok: true, result}` or
 * `{ok: false, message, details, fatal}`; `fatal` means every further call would fail
 * the same way (server unreachable, token refused), so a batch should stop.
 */

export async function importWorkflow({ baseUrl, token, text, publish }) {
  const url = `${baseUrl}/api/workflows/import${publish ? '?publish=true' : ''}`;
  let res;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' },
      body: text,
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    const why = err.cause?.code ?? err.cause?.message ?? err.message;
    return {
      ok: false,
      fatal: true,
      message: `cannot reach ${baseUrl} (${why}). Is the server running? Check AUTOMATE_URL.`,
    };
  }
  const body = await res.text();
  let data;
  try {
    data = JSON.parse(body);
  } catch {
    data = undefined;
  }
  if (res.ok && typeof data?.key === 'string') return { ok: true, status: res.status, result: data };

  const error = data?.error;
  if (!error)
    return {
      ok: false,
      fatal: res.status >= 500,
      message: `unexpected answer: HTTP ${res.status} ${res.statusText} from ${url}`,
    };
  const details = Array.isArray(error.details) ? error.details : [];
  const ref = error.requestId ? ` [request ${error.requestId}]` : '';
  // The server's message repeats the first detail ("Cannot publish: steps[1].x: ..."); keep its lead.
  const lead =
    details.length && error.message.includes(`: ${details[0].path}`)
      ? error.message.slice(0, error.message.indexOf(`: ${details[0].path}`))
      : error.message;
  return {
    ok: false,
    fatal: res.status === 401,
    status: res.status,
    message: `${error.code ?? `HTTP ${res.status}`}: ${error.message}${ref}`,
    summary: `${lead} (${details.length} problems)${ref}`,
    details,
  };
}
