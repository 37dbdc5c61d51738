/**
 * The workflow files in the repository's workflows/ folder, bundled into the studio at
 * build time: the wizard's templates.
 */
const files = import.meta.glob<{ default: Record<string, unknown> }>('../../../../workflows/*.json', { eager: true });

export interface Template {
  key: string;
  name: string;
  description: string;
  file: Record<string, unknown>;
}

export const TEMPLATES: Template[] = Object.values(files)
  .map(({ default: file }) => ({
    key: String(file.key),
    name: String(file.name ?? file.key),
    description: typeof file.description === 'string' ? file.description : '',
    file,
  }))
  .sort((a, b) => a.name.localeCompare(b.name));
