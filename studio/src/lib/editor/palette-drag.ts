/** The drag payload type between the palette and the canvas (a JSON-encoded PaletteItem). */
export const PALETTE_MIME = 'application/x-automate-palette';
