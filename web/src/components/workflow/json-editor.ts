/**
 * The CodeMirror 6 JSON editor, loaded on demand (a dynamic import) so the console's first load stays small.
 * Its styles go to a constructed stylesheet (see web/vite.config.ts), which the Content-Security-Policy allows.
 */
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { json } from '@codemirror/lang-json';
import { bracketMatching, defaultHighlightStyle, indentOnInput, syntaxHighlighting } from '@codemirror/language';
import { Compartment, EditorState } from '@codemirror/state';
import { EditorView, drawSelection, highlightActiveLine, keymap, lineNumbers } from '@codemirror/view';

export interface JsonEditorOptions {
  parent: HTMLElement;
  doc: string;
  labelledBy: string;
  describedBy?: string;
  onChange: (value: string) => void;
}

export interface JsonEditor {
  setDoc(doc: string): void;
  setDescribedBy(id: string | undefined): void;
  destroy(): void;
}

const theme = EditorView.theme({
  '&': {
    color: 'var(--fg)',
    backgroundColor: 'var(--panel)',
    border: '1px solid var(--line)',
    borderRadius: '6px',
    fontSize: '0.875rem',
  },
  '&.cm-focused': { outline: '2px solid var(--accent)', outlineOffset: '1px' },
  '.cm-scroller': {
    fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace',
    lineHeight: '1.4',
    minHeight: '16em',
    maxHeight: '32em',
  },
  '.cm-gutters': {
    backgroundColor: 'var(--panel)',
    color: 'var(--muted)',
    borderRight: '1px solid var(--line)',
  },
});

export function createJsonEditor(options: JsonEditorOptions): JsonEditor {
  const described = new Compartment();
  const describedAttrs = (id: string | undefined) =>
    EditorView.contentAttributes.of(id ? { 'aria-describedby': id } : {});
  const view = new EditorView({
    parent: options.parent,
    state: EditorState.create({
      doc: options.doc,
      extensions: [
        lineNumbers(),
        history(),
        drawSelection(),
        indentOnInput(),
        bracketMatching(),
        highlightActiveLine(),
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        json(),
        EditorState.tabSize.of(2),
        // Escape then Tab leaves the editor, so the page stays keyboard navigable.
        keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
        EditorView.contentAttributes.of({ 'aria-labelledby': options.labelledBy }),
        described.of(describedAttrs(options.describedBy)),
        theme,
        EditorView.updateListener.of((update) => {
          if (update.docChanged) options.onChange(update.state.doc.toString());
        }),
      ],
    }),
  });
  return {
    setDoc(doc) {
      if (doc !== view.state.doc.toString()) {
        view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: doc } });
      }
    },
    setDescribedBy(id) {
      view.dispatch({ effects: described.reconfigure(describedAttrs(id)) });
    },
    destroy() {
      view.destroy();
    },
  };
}
