"""Every string the dashboard shows, in every UI language: one catalogue, none in the pages.

Languages of the network: English, Finnish (Suomi) and Filipino. A missing translation falls back
to English, so a new key never shows up as a blank; `test_i18n` checks none is missing.
"""

from __future__ import annotations

from typing import Final

LANGUAGES: Final[dict[str, str]] = {"en": "English", "fi": "Suomi", "fil": "Filipino"}
DEFAULT = "en"

# key: (English, Finnish, Filipino)
_T: Final[dict[str, tuple[str, str, str]]] = {
    "app.title": ("ClassNet Weather", "ClassNet-sää", "ClassNet Panahon"),
    "app.tagline": (
        "How is the weather today in Asia & Europe?",
        "Millainen sää on tänään Aasiassa ja Euroopassa?",
        "Kumusta ang panahon ngayon sa Asya at Europa?",
    ),
    "nav.now": ("Now", "Nyt", "Ngayon"),
    "nav.compare": ("Compare", "Vertaa", "Ihambing"),
    "nav.regions": ("Asia vs Europe", "Aasia vs Eurooppa", "Asya laban sa Europa"),
    "nav.leaderboard": ("Leaderboard", "Tulostaulu", "Talaan ng nangunguna"),
    "nav.classrooms": ("Classrooms", "Luokkahuoneet", "Mga silid-aralan"),
    "nav.stations": ("Stations", "Asemat", "Mga istasyon"),
    "ctl.language": ("Language", "Kieli", "Wika"),
    "ctl.units": ("Units", "Yksiköt", "Mga yunit"),
    "ctl.schools": ("Schools", "Koulut", "Mga paaralan"),
    "ctl.pick": ("Pick schools…", "Valitse kouluja…", "Pumili ng paaralan…"),
    "ctl.variable": ("Quantity", "Suure", "Sukat"),
    "ctl.period": ("Period", "Ajanjakso", "Panahon"),
    "ctl.clock": ("Time axis", "Aika-akseli", "Axis ng oras"),
    "ctl.download": ("Download CSV", "Lataa CSV", "I-download ang CSV"),
    "period.day": ("Last day", "Viime vuorokausi", "Nakaraang araw"),
    "period.week": ("Last week", "Viime viikko", "Nakaraang linggo"),
    "period.month": ("Last month", "Viime kuukausi", "Nakaraang buwan"),
    "clock.utc": ("UTC (same instant)", "UTC (sama hetki)", "UTC (parehong sandali)"),
    "clock.local": ("Local clock time", "Paikallinen kellonaika", "Lokal na oras sa orasan"),
    "clock.solar": ("Local solar time", "Paikallinen aurinkoaika", "Lokal na oras ng araw"),
    "axis.utc": ("Time (UTC)", "Aika (UTC)", "Oras (UTC)"),
    "axis.local": ("Local clock time", "Paikallinen kellonaika", "Lokal na oras sa orasan"),
    "axis.solar": ("Local solar time", "Paikallinen aurinkoaika", "Lokal na oras ng araw"),
    "axis.date": ("Local date", "Paikallinen päivä", "Lokal na petsa"),
    "var.temp_c": ("Temperature", "Lämpötila", "Temperatura"),
    "var.feels_c": ("Feels like", "Tuntuu kuin", "Pakiramdam ay parang"),
    "var.rh_pct": ("Humidity", "Ilmankosteus", "Halumigmig"),
    "var.slp_hpa": ("Sea-level pressure", "Ilmanpaine merenpinnan tasolla", "Presyon sa dagat"),
    "var.pressure_hpa": ("Station pressure", "Aseman ilmanpaine", "Presyon sa istasyon"),
    "var.wind_speed_ms": ("Wind", "Tuuli", "Hangin"),
    "var.wind_gust_ms": ("Gusts", "Puuskat", "Bugso ng hangin"),
    "var.wind_dir_deg": ("Wind direction", "Tuulen suunta", "Direksyon ng hangin"),
    "var.rain_mm": ("Rain", "Sade", "Ulan"),
    "var.rain_today": ("Rain today", "Sade tänään", "Ulan ngayong araw"),
    "var.light_lux": ("Light", "Valoisuus", "Liwanag"),
    "var.uv_index": ("UV index", "UV-indeksi", "UV index"),
    "var.co2_ppm": ("CO₂", "CO₂", "CO₂"),
    "var.pm2_5_ugm3": ("Fine dust PM2.5", "Pienhiukkaset PM2.5", "Pinong alikabok PM2.5"),
    "var.pm10_ugm3": ("Dust PM10", "Hiukkaset PM10", "Alikabok PM10"),
    "var.battery_v": ("Battery", "Akku", "Baterya"),
    "var.rssi_dbm": ("Wi-Fi signal", "Wi-Fi-signaali", "Signal ng Wi-Fi"),
    "now.title": ("Weather now", "Sää nyt", "Panahon ngayon"),
    "now.map": ("All schools", "Kaikki koulut", "Lahat ng paaralan"),
    "map.cell": ("{n} schools (mean)", "{n} koulua (keskiarvo)", "{n} paaralan (karaniwan)"),
    "now.map_hint": (
        "Click a school on the map to add it to your comparison.",
        "Napsauta koulua kartalla lisätäksesi sen vertailuun.",
        "I-click ang paaralan sa mapa para idagdag sa paghahambing.",
    ),
    "now.local_time": ("Local time", "Paikallinen aika", "Lokal na oras"),
    "now.sunrise": ("Sunrise", "Aurinko nousee", "Pagsikat ng araw"),
    "now.sunset": ("Sunset", "Aurinko laskee", "Paglubog ng araw"),
    "now.updated": ("Last update", "Päivitetty", "Huling update"),
    "now.none": (
        "Pick one or more schools above or on the map.",
        "Valitse yksi tai useampi koulu yllä tai kartalta.",
        "Pumili ng isa o higit pang paaralan sa itaas o sa mapa.",
    ),
    "ago.now": ("just now", "juuri nyt", "ngayon lang"),
    "ago.min": ("{n} min ago", "{n} min sitten", "{n} min ang nakalipas"),
    "ago.h": ("{n} h ago", "{n} h sitten", "{n} oras ang nakalipas"),
    "ago.d": ("{n} days ago", "{n} päivää sitten", "{n} araw ang nakalipas"),
    "ago.never": ("never", "ei koskaan", "hindi pa"),
    "state.online": ("online", "verkossa", "online"),
    "state.stale": ("late", "myöhässä", "nahuhuli"),
    "state.offline": ("offline", "ei yhteyttä", "offline"),
    "compare.title": ("Compare schools", "Vertaa kouluja", "Ihambing ang mga paaralan"),
    "compare.daily": (
        "Each local day: lowest and highest temperature, and rain",
        "Joka paikallinen päivä: alin ja ylin lämpötila sekä sade",
        "Bawat lokal na araw: pinakamababa at pinakamataas na temperatura, at ulan",
    ),
    "compare.min": ("lowest", "alin", "pinakamababa"),
    "compare.max": ("highest", "ylin", "pinakamataas"),
    "compare.empty": (
        "No readings for these schools in this period yet.",
        "Näiltä kouluilta ei ole vielä lukemia tältä ajalta.",
        "Wala pang datos mula sa mga paaralang ito sa panahong ito.",
    ),
    "regions.title": ("Asia vs Europe", "Aasia vs Eurooppa", "Asya laban sa Europa"),
    "regions.median": ("median", "mediaani", "median"),
    "regions.band": ("middle half of schools", "keskimmäinen puolet kouluista", "gitnang kalahati"),
    "region.asia": ("Asia", "Aasia", "Asya"),
    "region.europe": ("Europe", "Eurooppa", "Europa"),
    "leader.title": ("Today's leaderboard", "Päivän tulostaulu", "Talaan ngayong araw"),
    "leader.hottest": ("Hottest", "Kuumin", "Pinakamainit"),
    "leader.coldest": ("Coldest", "Kylmin", "Pinakamalamig"),
    "leader.wettest": ("Wettest", "Sateisin", "Pinakamaulan"),
    "leader.windiest": ("Windiest", "Tuulisin", "Pinakamahangin"),
    "leader.range": ("Biggest daily range", "Suurin vuorokausivaihtelu", "Pinakamalaking agwat"),
    "leader.anomaly": (
        "Warmer or colder than usual?",
        "Lämpimämpää vai kylmempää kuin yleensä?",
        "Mas mainit o mas malamig kaysa karaniwan?",
    ),
    "leader.school": ("School", "Koulu", "Paaralan"),
    "leader.value": ("Value", "Arvo", "Halaga"),
    "leader.rank": ("#", "#", "#"),
    "leader.baseline": ("Usual", "Tavallinen", "Karaniwan"),
    "leader.today": ("Today", "Tänään", "Ngayon"),
    "leader.diff": ("Difference", "Ero", "Pagkakaiba"),
    "leader.empty": ("No readings yet today.", "Ei vielä lukemia tänään.", "Wala pang datos."),
    "class.title": ("Classroom air", "Luokkahuoneen ilma", "Hangin sa silid-aralan"),
    "class.none": (
        "No classroom monitors are connected yet.",
        "Luokkahuonemittareita ei ole vielä kytketty.",
        "Wala pang nakakonektang monitor sa silid-aralan.",
    ),
    "class.good": ("fresh air", "raikas ilma", "sariwang hangin"),
    "class.ok": ("open a window soon", "tuuleta pian", "magbukas ng bintana maya-maya"),
    "class.bad": ("ventilate now", "tuuleta nyt", "magpahangin na ngayon"),
    "stations.title": ("Stations (for teachers)", "Asemat (opettajille)", "Mga istasyon (guro)"),
    "stations.station": ("Station", "Asema", "Istasyon"),
    "stations.name": ("School", "Koulu", "Paaralan"),
    "stations.state": ("State", "Tila", "Kalagayan"),
    "stations.last_seen": ("Last seen", "Viimeksi nähty", "Huling nakita"),
    "stations.firmware": ("Firmware", "Laiteohjelmisto", "Firmware"),
    "stations.rejects": (
        "Rejected readings by reason",
        "Hylätyt lukemat syyn mukaan",
        "Mga tinanggihang sukat ayon sa dahilan",
    ),
    "stations.reason": ("Reason", "Syy", "Dahilan"),
    "stations.recent": (
        "Latest rejected messages",
        "Viimeisimmät hylätyt viestit",
        "Pinakabagong tinanggihang mensahe",
    ),
    "stations.time": ("Received", "Vastaanotettu", "Natanggap"),
    "stations.detail": ("What was wrong", "Mikä oli vialla", "Ano ang mali"),
    "stations.count": ("Count", "Määrä", "Bilang"),
    "stations.no_rejects": (
        "No rejected readings: all sensors look fine.",
        "Ei hylättyjä lukemia: kaikki anturit näyttävät toimivan.",
        "Walang tinanggihang sukat: maayos ang lahat ng sensor.",
    ),
    "explain.title": ("Explain", "Selitys", "Paliwanag"),
    "explain.feels": (
        "“Feels like” is how warm your skin finds the air. Wind carries heat away, so a cold, "
        "windy day feels colder; humid air stops sweat from drying, so a hot, humid day feels "
        "hotter than the thermometer says.",
        "”Tuntuu kuin” kertoo, miltä ilma tuntuu iholla. Tuuli vie lämpöä, joten kylmä ja "
        "tuulinen päivä tuntuu kylmemmältä; kostea ilma estää hikeä haihtumasta, joten kuuma ja "
        "kostea päivä tuntuu kuumemmalta kuin mittari näyttää.",
        "Ang “pakiramdam ay parang” ay kung gaano kainit ang hangin sa iyong balat. Inaalis ng "
        "hangin ang init kaya mas malamig ang pakiramdam; pinipigilan ng halumigmig na matuyo "
        "ang pawis kaya mas mainit ang pakiramdam kaysa sa termometro.",
    ),
    "explain.slp": (
        "Air pressure falls as you go up a hill. A school on a mountain always reads lower, so "
        "we convert every reading to what it would be at sea level before comparing schools.",
        "Ilmanpaine laskee ylämäkeen mentäessä. Vuorella oleva koulu mittaa aina pienemmän "
        "paineen, joten muunnamme lukemat merenpinnan tasolle ennen koulujen vertailua.",
        "Bumababa ang presyon ng hangin habang umaakyat ka. Laging mas mababa ang sukat ng "
        "paaralan sa bundok, kaya ginagawa naming parang nasa antas ng dagat ang bawat sukat "
        "bago ihambing.",
    ),
    "explain.clock": (
        "UTC shows the same moment everywhere: when it is noon in Manila it is early morning in "
        "Helsinki. Local clock time puts 8 o'clock school start side by side. Local solar time "
        "puts the moment the sun is highest at 12:00 for every school, so the afternoon "
        "temperature peaks line up across continents.",
        "UTC näyttää saman hetken kaikkialla: kun Manilassa on keskipäivä, Helsingissä on "
        "aamuyö. Paikallinen kellonaika asettaa koulupäivien alut rinnakkain. Paikallisessa "
        "aurinkoajassa aurinko on korkeimmillaan klo 12 jokaisessa koulussa, joten iltapäivän "
        "lämpöhuiput osuvat kohdakkain mantereesta riippumatta.",
        "Ipinapakita ng UTC ang parehong sandali saanman: tanghali sa Maynila, madaling-araw sa "
        "Helsinki. Pinagtatabi ng lokal na oras sa orasan ang simula ng klase. Sa lokal na oras "
        "ng araw, alas-12 ang pinakamataas na araw sa bawat paaralan, kaya magkatapat ang init "
        "ng hapon sa magkaibang kontinente.",
    ),
    "explain.daily": (
        "Each bar is one day at that school, from its own midnight to midnight.",
        "Jokainen pylväs on yksi päivä koulun omasta keskiyöstä keskiyöhön.",
        "Bawat bar ay isang araw sa paaralang iyon, mula sa sarili nitong hatinggabi.",
    ),
    "explain.band": (
        "The line is the middle school of each side (half are warmer, half colder). The shaded "
        "band holds the middle half of the schools, so a wide band means the schools disagree.",
        "Viiva on kunkin puolen keskimmäinen koulu (puolet lämpimämpiä, puolet kylmempiä). "
        "Varjostettu alue sisältää keskimmäisen puolet kouluista: leveä alue tarkoittaa, että "
        "koulujen sää vaihtelee paljon.",
        "Ang linya ay ang gitnang paaralan ng bawat panig (kalahati mas mainit, kalahati mas "
        "malamig). Nasa may-kulay na bahagi ang gitnang kalahati ng mga paaralan; kapag malapad "
        "ito, magkakaiba ang panahon ng mga paaralan.",
    ),
    "explain.anomaly": (
        "We compare today with the same school's own recent days, not with other schools: "
        "+3 means three degrees warmer than usual there.",
        "Vertaamme tätä päivää saman koulun viime päiviin, emme muihin kouluihin: +3 tarkoittaa "
        "kolme astetta tavallista lämpimämpää.",
        "Inihahambing namin ang araw na ito sa mga nakaraang araw ng parehong paaralan: ang +3 "
        "ay tatlong digri na mas mainit kaysa karaniwan doon.",
    ),
    "explain.co2": (
        "We breathe out CO₂. Below 1000 ppm the air is fresh. From 1000 to 2000 ppm it is time "
        "to open a window: people get tired and lose focus. Above 2000 ppm, ventilate now.",
        "Hengitämme ulos hiilidioksidia. Alle 1000 ppm ilma on raikasta. 1000–2000 ppm: avaa "
        "ikkuna, väsymys ja keskittymisvaikeudet lisääntyvät. Yli 2000 ppm: tuuleta heti.",
        "Humihinga tayo ng CO₂. Sariwa ang hangin kapag mas mababa sa 1000 ppm. Mula 1000 "
        "hanggang 2000 ppm, magbukas ng bintana: napapagod tayo at nawawalan ng pokus. Kapag "
        "higit sa 2000 ppm, magpahangin na agad.",
    ),
    "explain.indoor": (
        "Classroom monitors measure indoor air, so they never appear in the weather comparison.",
        "Luokkamittarit mittaavat sisäilmaa, joten ne eivät ole mukana säävertailussa.",
        "Panloob na hangin ang sinusukat ng mga monitor kaya hindi sila kasama sa paghahambing "
        "ng panahon.",
    ),
    "explain.map": (
        "Colours show the chosen quantity now. A hollow circle is a station that is late, a grey "
        "cross one that is offline. School positions are blurred by about 1 km for privacy.",
        "Värit näyttävät valitun suureen nyt. Ontto ympyrä: asema on myöhässä; harmaa risti: "
        "asema on poissa verkosta. Koulujen sijainnit on sumennettu noin 1 km:n tarkkuuteen.",
        "Ipinapakita ng kulay ang napiling sukat ngayon. Ang bilog na walang laman ay istasyong "
        "nahuhuli, ang abong ekis ay offline. Malabo nang mga 1 km ang lokasyon ng paaralan.",
    ),
    "explain.stations": (
        "A station is late after 15 minutes without news and offline after an hour. Low battery "
        "(below 3.4 V) or weak Wi-Fi (below −80 dBm) are the usual causes. Rejected readings "
        "show which sensor sends impossible values.",
        "Asema on myöhässä, jos siitä ei ole kuulunut 15 minuuttiin, ja poissa verkosta tunnin "
        "jälkeen. Yleisiä syitä "
        "ovat heikko akku (alle 3,4 V) tai heikko Wi-Fi (alle −80 dBm). Hylätyt lukemat "
        "kertovat, mikä anturi lähettää mahdottomia arvoja.",
        "Nahuhuli ang istasyon pagkalipas ng 15 minutong walang balita, at offline pagkalipas ng "
        "isang oras. Karaniwang dahilan "
        "ang mahinang baterya (mas mababa sa 3.4 V) o mahinang Wi-Fi (mas mababa sa −80 dBm). "
        "Ipinapakita ng mga tinanggihang sukat kung aling sensor ang nagpapadala ng maling halaga.",
    ),
}

KEYS: Final[frozenset[str]] = frozenset(_T)


def t(key: str, lang: str | None = DEFAULT) -> str:
    """The text for `key` in `lang` (English when the language or the key is unknown)."""
    texts = _T.get(key)
    if texts is None:
        return key
    index = list(LANGUAGES).index(lang) if lang in LANGUAGES else 0
    return texts[index] or texts[0]
