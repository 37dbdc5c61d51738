/**
 * The copilot's notes as the studio shows them: a note asking to create a secret
 * ("Create the secret ERP_API_KEY (Settings → Secrets) before publishing.") names the key, so
 * the box can link to Admin › Stored Secrets instead of the API's wording of the place.
 */
export interface CopilotNote {
  text: string;
  /** The secret the note asks the workspace to create, if any. */
  createSecret?: string;
}

export function readNote(note: string): CopilotNote {
  const wanted = note.match(/\bCreate the secret ([A-Z][A-Z0-9_]*)\b/);
  if (!wanted) return { text: note };
  return { text: note.replace(/\s*\(Settings → Secrets\)/, ''), createSecret: wanted[1] };
}
