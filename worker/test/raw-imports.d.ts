// Vite's `?raw` imports: a file's text (the docs the tests check against the code).
declare module '*?raw' {
  const text: string;
  export default text;
}
