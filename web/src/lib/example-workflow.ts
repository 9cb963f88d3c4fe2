/** The README's walk-through workflow: greet the sender, then end. */
export const EXAMPLE_WORKFLOW = {
  name: 'Greet',
  description: 'The README walk-through: greets input.name',
  definition: {
    steps: [{ id: 'greet', type: 'transform', expression: '"Hello, " & input.name' }],
    output: '{ "greeting": steps.greet.output }',
  },
};
