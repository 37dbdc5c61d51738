/**
 * The API's problem messages as the studio shows them: where a message sends the reader to
 * an API route, point to the studio page that does the same instead.
 */
export function studioMessage(message: string): string {
  return message
    .replace(/\s*\(PUT \/api\/secrets\/[A-Z0-9_]+\)/, ' (Settings › Stored secrets)')
    .replace(/\s*\(GET \/api\/connectors lists them\)/, ' (the palette lists them)');
}
