// The map of the grid hierarchy: street → community → grid, each level's polygons coloured by
// grade or by the live count of open cases, drilled into by clicking a polygon or its entry in the
// list (keyboard users use the list); open cases are drawn as points.
import { useEffect, useRef, useState } from 'preact/hooks';
import { createMap, geoLayer, GRADE_COLOURS, loadColour, areaColour, pointMarker, L } from '../lib/map.js';
import { topGrids, children, grid, asFeatures, loadPerGrid } from '../lib/grids.js';
import { listCases, OPEN_STATES, LIST_MAX } from '../lib/cases.js';
import { nameOf, i18n } from '../lib/i18n.js';
import { ErrorBox, Loading, Empty, useT } from '../lib/ui.jsx';

export function MapView({ ctx }) {
  const t = useT();
  const el = useRef(null);
  const map = useRef(null);
  const layers = useRef({ grids: null, outline: null, cases: null });
  const [path, setPath] = useState([]); // grids drilled into, top first
  const [kids, setKids] = useState(null); // GeoJSON of the current level
  const [mode, setMode] = useState('grade');
  const [cases, setCases] = useState(null); // open cases, or null when unavailable
  const [casesError, setCasesError] = useState(null);
  const [error, setError] = useState(null);
  const [loading, setLoading] = useState(true);

  useEffect(() => {
    map.current = createMap(el.current, { basemapLabels: false }); // the polygons carry their names
    topGrids(ctx.me).then(
      (tops) => {
        if (tops.length === 1) drill([tops[0]]);
        else {
          setKids({ type: 'FeatureCollection', features: tops.map((g) => asFeatures(g).features[0]).filter(Boolean) });
          setLoading(false);
        }
      },
      (e) => {
        setError(e);
        setLoading(false);
      },
    );
    listCases({ state: OPEN_STATES.join(','), limit: LIST_MAX }).then(
      (r) => setCases(r.cases),
      (e) => setCasesError(e),
    );
    return () => {
      map.current.remove();
      map.current = null;
    };
  }, []);

  async function drill(newPath) {
    setLoading(true);
    setError(null);
    try {
      const last = newPath[newPath.length - 1];
      const [fc, self] = await Promise.all([children(last.code), last.geometry ? last : grid(last.code)]);
      if (!map.current) return; // left the page meanwhile
      newPath[newPath.length - 1] = self;
      setPath(newPath);
      setKids(fc.features.length ? fc : asFeatures(self));
    } catch (e) {
      setError(e);
    }
    setLoading(false);
  }

  const codes = kids ? kids.features.map((f) => f.properties.code) : [];
  const load = cases ? loadPerGrid(cases, codes) : {};
  const maxLoad = Math.max(1, ...Object.values(load));

  // Draws the current level whenever it, the colouring or the language changes.
  useEffect(() => {
    const m = map.current;
    if (!m || !kids) return;
    const ls = layers.current;
    ['grids', 'outline', 'cases'].forEach((k) => ls[k] && m.removeLayer(ls[k]));
    const last = path[path.length - 1];
    if (last && last.geometry && kids.features.length && kids.features[0].properties.code !== last.code) {
      ls.outline = geoLayer(asFeatures(last), { style: { color: '#1f2933', weight: 3, fill: false, dashArray: '6 4' }, interactive: false }).addTo(m);
    }
    ls.grids = geoLayer(kids, {
      style: (f) => {
        const p = f.properties;
        const fill = mode === 'load' ? loadColour(load[p.code] || 0, maxLoad) : p.grade ? GRADE_COLOURS[p.grade] : areaColour(codes.indexOf(p.code));
        return { color: '#1f2933', weight: 1.2, fillColor: fill, fillOpacity: 0.4, className: 'grid-shape' };
      },
      onEachFeature: (f, layer) => {
        const p = f.properties;
        const n = load[p.code] || 0;
        if (kids.features.length > 80) layer.bindTooltip(`${nameOf(p)} · ${t('level.' + p.level)}${cases ? ' · ' + t('map.openCases', { count: n }) : ''}`, { sticky: true });
        layer.on('click', () => open(p));
        if (kids.features.length <= 80)
          layer.bindTooltip(nameOf(p), { permanent: true, direction: 'center', className: 'map-label', interactive: false });
      },
    }).addTo(m);
    if (cases) {
      ls.cases = L.layerGroup(
        cases
          .filter((c) => c.lat && c.lon && codes.some((code) => (c.grid || '').startsWith(code)))
          .map((c) =>
            pointMarker(c.lat, c.lon, { colour: c.overdue ? '#c8372d' : '#2f74b5', radius: 6 })
              .bindTooltip(`#${c.id} ${nameOf(c.category_name)}`)
              .on('click', () => (location.hash = '#/cases/' + c.id)),
          ),
      ).addTo(m);
    }
    const b = ls.grids.getBounds();
    if (b.isValid()) m.fitBounds(b, { padding: [16, 16], animate: false });
  }, [kids, mode, cases, i18n.language]);

  function open(p) {
    if (p.level === 'grid' || p.level === 'subgrid' || p.code === (path[path.length - 1] || {}).code) {
      location.hash = '#/grids/' + p.code;
      return;
    }
    drill([...path, p]);
  }

  const sorted = kids ? [...kids.features].sort((a, b) => (mode === 'load' ? (load[b.properties.code] || 0) - (load[a.properties.code] || 0) : 0) || (a.properties.code < b.properties.code ? -1 : 1)) : [];

  return (
    <div class="split">
      <aside class="panel" aria-label={t('map.panel')}>
        <nav class="crumbs" aria-label={t('map.crumbs')}>
          {path.map((g, i) => (
            <span key={g.code}>
              {i > 0 && ' › '}
              {i < path.length - 1 ? (
                <button type="button" class="link" onClick={() => drill(path.slice(0, i + 1))}>
                  {nameOf(g)}
                </button>
              ) : (
                <strong>{nameOf(g)}</strong>
              )}
            </span>
          ))}
        </nav>
        <fieldset class="modes">
          <legend>{t('map.colourBy')}</legend>
          <label>
            <input type="radio" name="mode" checked={mode === 'grade'} onChange={() => setMode('grade')} /> {t('map.byGrade')}
          </label>
          <label>
            <input type="radio" name="mode" checked={mode === 'load'} onChange={() => setMode('load')} disabled={!cases} /> {t('map.byLoad')}
          </label>
        </fieldset>
        {mode === 'grade' ? (
          <ul class="legend">
            {Object.entries(GRADE_COLOURS).map(([g, c]) => (
              <li key={g}>
                <i style={{ background: c }} /> {t('grade.' + (g || 'none'))}
              </li>
            )).slice(0, 4)}
            <li>
              <i style={{ background: areaColour(0) }} /> {t('map.ungraded')}
            </li>
          </ul>
        ) : (
          <p class="hint">{t('map.loadHint')}</p>
        )}
        {casesError && <p class="hint">{t('map.noCases')}</p>}
        {loading && <Loading />}
        <ErrorBox error={error} onRetry={() => drill(path.length ? path : [])} />
        {!loading && kids && !kids.features.length && <Empty text={t('map.empty')} />}
        <ul class="list" aria-label={t('map.children')}>
          {sorted.map((f) => {
            const p = f.properties;
            return (
              <li key={p.code}>
                <button type="button" class="row" onClick={() => open(p)}>
                  <span>
                    {nameOf(p)} <small>{p.code}</small>
                  </span>
                  <span class="meta">
                    {t('level.' + p.level)}
                    {p.grade ? ' · ' + t('grade.' + p.grade) : ''}
                    {cases ? ' · ' + t('map.openCases', { count: load[p.code] || 0 }) : ''}
                  </span>
                </button>
              </li>
            );
          })}
        </ul>
      </aside>
      <div class="map" ref={el} role="region" aria-label={t('map.label')} data-testid="map" />
    </div>
  );
}
