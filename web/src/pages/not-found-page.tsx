export function NotFoundPage() {
  return (
    <section>
      <h1>Not found</h1>
      <p>
        There is no such page. Go to <a href="/console/runs">Runs</a>.
      </p>
    </section>
  );
}
