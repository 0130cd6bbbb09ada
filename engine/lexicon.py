"""Word lists the rule planner and the appearance parser share.

Kept apart from the logic so the lists can grow without touching the code that reads them.
Pure data: frozensets of lowercase words and small tables of canonical phrases.
"""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Who a description is about: picks the pronoun and marks the "base" phrase.
SHE_WORDS = _words("""
    woman women girl lady queen princess mother mom mum sister daughter wife grandmother granny
    aunt niece heroine actress priestess empress duchess countess maiden mermaid sorceress
    witch waitress goddess female bride nun matriarch lass gal she her herself madam baroness
    schoolgirl girlfriend grandma businesswoman policewoman songstress hostess huntress
""")
HE_WORDS = _words("""
    man men boy king prince lord father dad son brother husband grandfather grandpa uncle nephew
    hero actor priest emperor duke count wizard sorcerer male groom monk patriarch lad guy he
    him himself sir gentleman baron schoolboy boyfriend businessman policeman fisherman
    huntsman knight warlock
""")
IT_WORDS = _words("""
    robot android droid cyborg automaton machine drone mech golem dragon phoenix griffin gryphon
    unicorn pegasus cat kitten dog puppy fox wolf bird owl raven crow eagle hawk horse pony
    creature beast monster animal bear rabbit bunny mouse rat deer stag tiger lion leopard
    panther snake serpent lizard frog toad turtle tortoise fish whale shark dolphin octopus
    spider butterfly moth bee beetle squirrel hedgehog otter badger raccoon goat sheep cow pig
    elephant giraffe monkey ape gorilla penguin parrot duck swan goose chicken hen rooster
    slime blob ghost spirit sprite wisp tree ship car truck train spaceship airship it
""")
# Person/creature nouns that never name a prop or a place (pronouns are not nouns).
BEING_WORDS = (SHE_WORDS | HE_WORDS | IT_WORDS) - _words("she her herself he him himself it") | _words("""
    person people child kid baby teenager adult elder stranger traveler traveller wanderer
    stranger soldier guard warrior pirate sailor captain merchant farmer thief rogue ranger
    mage elf dwarf orc goblin troll giant vampire zombie alien detective doctor nurse chef
    student teacher scientist explorer astronaut pilot samurai ninja bard cleric paladin
    villager crowd figure someone everyone
""")

COLOR_WORDS = _words("""
    red blue green yellow orange purple violet pink black white grey gray brown blond blonde
    auburn ginger silver golden gold copper bronze teal turquoise cyan magenta crimson scarlet
    maroon navy indigo lavender lilac emerald jade amber hazel chestnut platinum ivory beige
    tan charcoal ebony raven rainbow rose coral mint olive ochre russet rust sandy strawberry
    salt-and-pepper multicolored multicoloured colorful colourful
""")
# Words that modify a colour ("dark red"): replaced together with it.
COLOR_MODIFIERS = _words("dark light bright pale deep jet neon pastel vivid dusty ash icy")
HAIR_LENGTHS = _words("""
    short long shoulder-length waist-length cropped buzzed shaved chin-length medium-length
    very cut
""")
HAIR_WORDS = _words("""
    hair haired braid braids ponytail pigtails bun curls locks mohawk dreadlocks dreads bob
    fringe bangs mane afro quiff undercut bald
""")
EYE_WORDS = _words("eyes eye gaze irises")
SKIN_WORDS = _words("""
    skin complexion skinned fur furred feathers feathered plumage scales scaled hide pelt
    shell bark chrome plating
""")
BUILD_WORDS = _words("""
    tall short slim slender stocky muscular broad-shouldered petite lanky thin chubby plump
    heavyset athletic build frame wiry burly hulking tiny small large huge giant skinny
    towering gaunt
""")
MARK_WORDS = _words("""
    scar scars tattoo tattoos freckles birthmark bruise bruises wound wounds bandage bandages
    mole burn burns cut cuts scratch scratches blood mud soot paint warpaint stitches
""")
WEAR_WORDS = _words("""
    scarf scarves coat overcoat raincoat cloak hood hat dress shirt t-shirt jacket boots boot
    armor armour robe robes glasses spectacles sunglasses gloves glove necklace earrings
    earring crown helmet mask uniform apron tunic gown trousers pants jeans skirt vest sweater
    jumper hoodie cape belt sandals shoes shoe goggles eyepatch ring rings bracelet tiara veil
    kimono suit tie bowtie overalls sneakers bandana beanie cap shawl poncho sash collar
    blouse cardigan blazer corset leggings stockings socks slippers heels mittens muffler
    headband hairpin pendant amulet locket brooch circlet diadem turban bonnet beret fedora
    top-hat tophat monocle outfit clothes costume attire garb gear pajamas pyjamas nightgown
    raincoat waistcoat chainmail breastplate gauntlets pauldrons greaves visor headphones
    backpack watch wristwatch medal badge ribbon bow flower wreath harness bridle saddle garland bib
    armband sombrero stetson clogs jumpsuit parka trenchcoat bowler tutu leotard wetsuit spacesuit
    shorts tuxedo toga sari
""")
# Body features that are items of their own ("with a long grey beard", "with large wings").
FEATURE_WORDS = _words("""
    beard beards moustache mustache stubble whiskers sideburns goatee horns horn wings wing
    tail tails antlers antler ears ear nose claws claw fangs fang beak smile teeth tusks
    mane halo aura glow markings stripes spots antenna antennae antennas visor fins fin
    tentacles tentacle paws paw hooves mandibles petals leaves branches roots
""")
CARRY_WORDS = _words("""
    sword swords staff lantern book books bag satchel umbrella shield spear wand basket torch
    map camera guitar lute violin flute dagger knife axe bow hammer pickaxe shovel rifle gun
    pistol bouquet flower flowers letter scroll cup mug teacup bottle potion orb crystal
    key keys phone lamp candle box chest package parcel briefcase suitcase stick cane
    walking-stick broom rope net fishing-rod pole banner flag sign tray plate bowl apple
    coin coins gem jewel skull mirror compass telescope notebook journal pen quill brush
    paintbrush sketchbook tablet laptop radio kite balloon ball teddy doll toy egg leash rod
    fishing-rod flashlight torch towel toolbox wrench hammer
""")

# Verbs after which a noun phrase is something worn / carried / lost.
PUT_ON_VERBS = (
    r"puts\s+on|put\s+on|putting\s+on|pulls\s+on|pulled\s+on|pulling\s+on|slips\s+on|slipped\s+on|throws\s+on|"
    r"threw\s+on|dons|donned|donning|slipped\s+into|"
    r"tries\s+on|tried\s+on|trying\s+on|slips\s+into|pulls\s+on|wraps|wrapped|wrapping|"
    r"is\s+now\s+wearing|now\s+wearing|is\s+wearing|are\s+wearing|was\s+wearing|now\s+wears|wears|wore|"
    r"changes\s+into|changed\s+into|dresses\s+in|(?:is|are|was|gets|got)\s+dressed\s+in|"
    r"changes\s+(?:her|his|their|its)\s+clothes\s+for"
)
TAKE_OFF_VERBS = (
    r"takes\s+off|took\s+off|taking\s+off|pulls\s+off|slips\s+off|throws\s+off|removes|"
    r"removed|removing|loses|lost|sheds|unties|doffs|no\s+longer\s+wears|"
    r"is\s+no\s+longer\s+wearing|no\s+longer\s+wearing|tears\s+off|rips\s+off|casts\s+off"
)
CARRY_VERBS = (
    r"picks\s+up|picked\s+up|picking\s+up|takes|took|grabs|grabbed|holds|is\s+holding|"
    r"holding|carries|is\s+carrying|carrying|wields|wielding|clutches|clutching|lifts|"
    r"raises|draws|unsheathes|pulls\s+out|produces|snatches|collects|gathers|finds|"
    r"now\s+holds|now\s+carries|brandishes|brandishing"
)
DROP_VERBS = (
    r"drops|dropped|dropping|puts\s+down|sets\s+down|lays\s+down|puts\s+away|throws\s+away|"
    r"tosses\s+away|tosses|throws|lets\s+go\s+of|sheathes|discards|abandons|leaves\s+behind|"
    r"no\s+longer\s+holds|no\s+longer\s+carries|hides|buries|puts|sets|places|leaves|put|set|placed|laid|lays"
)
# "takes a breath", "holds hands" ...: these objects are not things to carry.
NOT_CARRIED = _words("""
    breath breaths step steps seat look glance moment bow sip bite nap rest photo picture
    turn walk chance break stand stance deep hand hands arm arms position pose minute second
    while leap jump dive shower bath note notes notice aim shot hold place part lead care
    side sides tears form shape flight off it them him her his one turns notice course
    hair head face eye eyes leg legs foot feet finger fingers teeth smile expression frown
    grin heart mind voice name attention time way glare wink nod shrug sigh
""")
# Place nouns that make "walks into a smoky tavern" a new location (multi-word ones first).
PLACE_PHRASES = (
    "throne room", "living room", "dining room", "ball room", "ballroom", "train station",
    "space station", "market square", "town square", "city street", "back alley",
    "coffee shop", "rooftop garden", "bell tower", "wizard tower", "mountain pass",
    "forest clearing", "sea cave", "ice cave", "crystal cave", "control room", "engine room",
    "war room", "great hall", "banquet hall", "night market", "construction site", "building site",
    "bus stop", "parking lot", "car park", "gas station", "police station", "fire station", "train platform",
    "coffee shop", "tea shop", "book shop",
)
PLACE_WORDS = _words("""
    tavern inn pub bar cafe café restaurant diner kitchen bedroom room hall hallway corridor
    library study office shop store market bazaar forest woods wood jungle grove clearing
    meadow field fields garden park orchard farm barn stable castle palace fortress fort keep
    tower dungeon cellar crypt tomb cave cavern mine tunnel temple church cathedral chapel
    shrine monastery abbey ruins ruin village town city street alley road path bridge harbor
    harbour port dock docks pier beach shore coast island lake river stream waterfall pond
    swamp marsh bog desert dunes oasis canyon valley mountain mountains hill hills cliff cliffs
    peak summit glacier tundra plain plains prairie savanna camp campsite tent cabin cottage
    hut house mansion manor attic basement workshop forge laboratory lab factory warehouse
    station airport spaceport spaceship starship ship boat deck arena stadium theater theatre
    museum gallery school classroom hospital prison jail courtyard square plaza graveyard
    cemetery observatory greenhouse lighthouse windmill mill bakery smithy armory armoury
    vault bunker hangar subway train carriage wagon ballroom balcony rooftop roof terrace
    porch lobby apartment flat loft den lair nest hive citadel academy arcade casino club
    alleyway marketplace sanctuary reef yard backyard savannah savanna grassland grasslands glade
    woodland woodlands ocean sea seaside coastline seashore shoreline bay lagoon riverbank riverside
    volcano kingdom realm space planet studio gym pool playground zoo aquarium bathroom nursery
    supermarket mall hotel clinic university campus stage party festival carnival wedding sand
    rainforest wasteland wilderness countryside highway trail pavilion gazebo patio veranda backstage
    metropolis downtown suburb suburbs neighborhood neighbourhood farmhouse farmyard ranch vineyard
    pasture hillside mountainside jetty wharf dockyard shipyard boardwalk promenade sidewalk
    crossroads canal sewer sewers cockpit chamber trench pizzeria bistro brewery bookshop bookstore
    boutique salon barbershop pharmacy bank hostel motel bazaar teahouse teashop bathhouse sauna spa
    greenhouse conservatory orphanage palace courthouse townhall kindergarten daycare trawler yacht ferry
    canoe raft submarine sailboat steamboat galley
""")
# Spots inside many places: "waits on the pier" in the harbour, "sits on the bench" in the park.
PART_WORDS = _words("""
    pier jetty dock docks wharf deck balcony terrace porch roof rooftop steps stairs staircase doorway
    corner bench counter bar stage platform courtyard hallway corridor lobby gate entrance shore
    shoreline clearing tent patio veranda gazebo pavilion cockpit window
""")
# "the edge of the forest", "the foot of a cliff": the place is the one after "of".
PART_OF_WORDS = _words("""
    edge foot top middle center centre heart outskirts depths side end entrance gates bottom rim
    banks bank shores corner interior ruins remains
""")
# Places with a roof: the weather outside does not follow anyone in.
INDOOR_WORDS = _words("""
    room kitchen bedroom bathroom tavern inn pub bar cafe café restaurant diner library study office
    shop store hall hallway corridor cellar basement attic dungeon crypt tomb cave cavern mine tunnel
    church cathedral chapel museum gallery classroom hospital prison jail workshop forge smithy
    laboratory lab factory warehouse bunker hangar subway train carriage ballroom lobby apartment
    flat loft cabin cottage hut house mansion manor bakery arcade casino club theater theatre studio
    gym nursery supermarket mall hotel clinic spaceship starship den lair vault armory armoury
    chamber cockpit home
""")

# Camera phrases: (pattern, canonical prompt phrase). Longer patterns first.
CAMERA_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"extreme\s+close[\s-]?ups?", "extreme close-up"),
    (r"close[\s-]?ups?|closeups?|close\s+shot", "close-up"),
    (r"medium\s+(?:close[\s-]?up|shot)|mid[\s-]shot|waist[\s-]up\s+shot", "medium shot"),
    (r"establishing\s+shot", "establishing shot"),
    (r"(?:extreme\s+)?wide[\s-](?:angle\s+)?shot|wide\s+view|long\s+shot|wide\s+angle",
     "wide shot"),
    (r"full[\s-]body(?:\s+shot)?|full[\s-]length\s+shot", "full body shot"),
    (r"over[\s-]the[\s-]shoulder(?:\s+shot)?", "over the shoulder shot"),
    (r"(?:seen\s+|shot\s+|viewed\s+)?from\s+behind|back\s+view|rear\s+view", "view from behind"),
    (r"profile\s+view|in\s+profile|side[\s-]on\s+view", "profile view"),
    (r"side\s+view", "side view"),
    (r"front\s+view|from\s+the\s+front|facing\s+the\s+camera|front[\s-]on", "front view"),
    (r"low[\s-]angle(?:\s+shot)?|from\s+below|worm'?s[\s-]eye\s+view", "low angle shot"),
    (r"high[\s-]angle(?:\s+shot)?|from\s+above", "high angle shot"),
    (r"bird'?s[\s-]eye\s+view|birds[\s-]eye\s+view|aerial\s+view|top[\s-]down\s+view|"
     r"overhead\s+shot", "bird's-eye view"),
    (r"point[\s-]of[\s-]view(?:\s+shot)?|\bpov\b(?:\s+shot)?|first[\s-]person\s+view",
     "point of view shot"),
    (r"dutch\s+angle|tilted\s+angle", "dutch angle"),
)
# "same angle" keeps the previous camera.
KEEP_CAMERA = r"same\s+(?:angle|shot|camera|framing|view)|camera\s+stays|keep\s+the\s+(?:angle|shot)"

# Time of day: (pattern, canonical value).
TIME_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"golden\s+hour", "golden hour"),
    (r"midnight", "midnight"),
    (r"dawn|daybreak|sunrise|first\s+light|(?:the\s+)?sun\s+(?:rises|rose|comes\s+up|is\s+rising)|"
     r"break\s+of\s+day", "dawn"),
    (r"sunset|sundown|(?:the\s+)?sun\s+(?:sets|set|goes\s+down|is\s+setting|sinks)", "sunset"),
    (r"dusk|twilight|nightfall", "dusk"),
    (r"noon|midday|high\s+noon", "noon"),
    (r"afternoon", "afternoon"),
    (r"morning|next\s+day|daytime|broad\s+daylight", "morning"),
    (r"evening", "evening"),
    (r"night\s+(?:falls|fell|has\s+fallen|comes)|at\s+night|nighttime|night[\s-]time|"
     r"in\s+the\s+night|that\s+night|late\s+at\s+night|tonight|the\s+night|by\s+night|night\b",
     "night"),
)
# Lighting: (pattern, canonical value; "" clears the lighting).
LIGHT_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"lights?\s+(?:go|goes|went|are|is|turn|turns|turned|switch|switches)\s+(?:out|off)|"
     r"(?:in|into)\s+(?:total\s+|complete\s+)?darkness|blackout|pitch[\s-]black|"
     r"(?:blows|blew|puts|put)\s+out\s+the\s+(?:candle|lamp|lantern|light)s?", "darkness"),
    (r"lights?\s+(?:come|comes|came|turn|turns|turned|switch|switches|flicker|flickers)\s+"
     r"(?:on|back\s+on)", ""),
    (r"candle[\s-]?light|candlelit|by\s+candle|candles\s+flicker|lights?\s+(?:a|the|some)\s+candles?",
     "candlelight"),
    (r"(?:turns?|switch(?:es)?)\s+on\s+the\s+lights?", ""),
    (r"neon(?:\s+lights?|\s+signs?|[\s-]lit)?", "neon lights"),
    (r"moon[\s-]?light|moonlit", "moonlight"),
    (r"fire[\s-]?light|firelit|campfire\s+light|glow\s+of\s+the\s+fire|"
     r"lights?\s+(?:a|the)\s+(?:fire|campfire|fireplace)", "firelight"),
    (r"torch[\s-]?light|torchlit|lights?\s+(?:a|the)\s+torch", "torchlight"),
    (r"lamp[\s-]?light|lantern[\s-]?light|lamplit|lights?\s+(?:a|the)\s+(?:lamp|lantern)", "lamplight"),
    (r"sun[\s-]?light|sunlit|sunbeams?|sunshine", "sunlight"),
    (r"starlight|starlit", "starlight"),
    (r"spotlight", "spotlight"),
    (r"back[\s-]?lit|backlighting|rim\s+light", "backlight"),
    (r"lightning", "flashes of lightning"),
    (r"dim(?:ly)?[\s-]lit|dim\s+light", "dim light"),
)
# Lights that belong to a place: they do not follow the characters to another one.
PLACE_LIGHTS = frozenset({"candlelight", "neon lights", "firelight", "torchlight", "lamplight", "spotlight",
                          "dim light", "darkness"})
LIGHT_DIRECTIONS = _words("left right behind above below front")

# Weather: (pattern, canonical value; "" clears the weather).
WEATHER_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"(?:the\s+)?(?:rain|snow|storm|fog|mist|drizzle|blizzard|hail|wind)\s+"
     r"(?:stops|stopped|ends|ended|clears|cleared|lifts|lifted|passes|passed|eases|dies\s+down|"
     r"has\s+stopped|is\s+over|subsides|fades)|"
     r"(?:the\s+)?(?:sky|skies|weather)\s+(?:clears|cleared|clear\s+up)", ""),
    (r"clear\s+(?:skies|sky|weather)|cloudless\s+sky", "clear skies"),
    (r"thunder[\s-]?storms?", "thunderstorm"),
    (r"blizzard", "blizzard"),
    (r"(?:heavy|pouring|torrential|driving)\s+rain|downpour|pouring\s+down|rain\s+pours|rain\s+pouring|"
     r"(?:it's|it\s+is|it’s|now)\s+(?:\w+\s+)?pouring", "heavy rain"),
    (r"(?:light|gentle|soft)\s+rain|drizzl(?:e|es|ing)", "light rain"),
    (r"rain(?:s|ing|y|ed)?(?:\s+falls)?|rainfall", "rain"),
    (r"(?:heavy|light|gentle|falling)\s+snow|snow(?:s|ing|fall|y|ed)?|snowflakes", "snow"),
    (r"(?:thick|dense|heavy|rolling)\s+fog|fog(?:gy)?|misty|mist", "fog"),
    (r"storm(?:y)?(?!\s+(?:off|out|in|into|away))|tempest|gale", "storm"),
    (r"hailstorm|hail(?:s|ing)?(?!\s+(?:a|an|the|his|her|their|its|him|them|me|us|from)\b)", "hail"),
    (r"sandstorm", "sandstorm"),
    (r"overcast|cloudy|grey\s+skies|gray\s+skies", "overcast"),
)
# Phrases that read as a time/weather word but are not ("storms off", "a snow globe").
WEATHER_FALSE = (r"storms?\s+(?:off|out|in|into|away)|snow\s+globe|rain\s+check|brainstorm|"
                 r"(?:rain|snow|water)\s+(?:from|off)\s+(?:her|his|their|its|the)\b|"
                 r"fog(?:s|ged|ging)?\s+up|rain(?:s|ed)?\s+down\s+on|"
                 # snow lying on a landscape is part of the place, not falling weather
                 r"snow(?:y|[- ]?capped|[- ]covered)\s+(?:mountain|peak|summit|hill|ridge|field|slope|roof|rooftop|"
                 r"forest|pass|valley)s?")

SUBJECT_PRONOUNS = {
    "she": "she", "her": "she", "hers": "she", "herself": "she",
    "he": "he", "him": "he", "his": "he", "himself": "he",
    "they": "they", "them": "they", "their": "they", "theirs": "they", "themselves": "they",
    "it": "it", "its": "it", "itself": "it",
}
POSSESSIVE_DETS = _words("her his their its my your our the a an some")
ENTER_VERBS = (
    r"enters|entered|comes\s+in|came\s+in|walks\s+in|walked\s+in|steps\s+in|arrives|arrived|"
    r"appears|appeared|joins|joined|bursts\s+in|shows\s+up|returns|comes\s+back|"
    r"is\s+back|emerges|runs\s+in|rushes\s+in|strolls\s+in|wanders\s+in|flies\s+in|lands"
)
LEAVE_VERBS = (
    r"leaves|left|exits|exited|walks\s+(?:out|away|off)|goes\s+away|went\s+away|departs|"
    r"departed|disappears|disappeared|vanishes|vanished|is\s+gone|runs\s+(?:off|away|out)|"
    r"storms\s+(?:off|out)|flies\s+(?:off|away)|steps\s+out|heads\s+out|wanders\s+off|"
    r"slips\s+away|is\s+no\s+longer\s+here|drives\s+off|sails\s+away"
)
MOVE_VERBS = (
    r"walks|walked|goes|went|steps|stepped|runs|ran|heads|headed|moves|moved|wanders|"
    r"wandered|stumbles|stumbled|comes|came|climbs|climbed|rides|rode|flies|flew|sails|sailed|"
    r"arrives|arrived|returns|returned|rushes|rushed|hurries|hurried|sneaks|sneaked|snuck|"
    r"creeps|crept|strolls|strolled|marches|marched|travels|traveled|travelled|drives|drove|"
    r"dashes|races|bursts|slips|ventures|escapes|swims|dives|falls|crawls|limps|tiptoes|"
    r"gets|got|is|are|was|were|wakes\s+up|finds\s+(?:herself|himself|themselves|itself)|"
    r"enters|entered|reaches|reached|visits|visited|explores|explored|lands|landed|"
    r"teleports|soars|glides|floats|drifts|jumps|leaps|sits|stands|waits"
)

# "points at the castle", "looks toward the sea": a direction to look in, not a place to be.
GAZE_VERBS = _words("""
    points pointed pointing looks looked looking stares stared staring gazes gazed gazing
    glances glanced glancing waves waved waving smiles smiled smiling laughs laughed laughing
    shouts shouted shouting yells yelled calls called aims aimed aiming glares glared nods
    nodded frowns frowned throws threw throwing peers peered peering winks winked grins
    grinned gestures gestured gesturing squints squinted listens listened whispers whispered
    sings sang cries cried screams screamed barks barked growls growled hisses fires fired
    shoots shot lunges lunged charges charged nods
""")


def _forms(stem: str) -> list[str]:
    """walk -> walk walks walked walking; ride -> rides rode? (irregulars are listed apart)."""
    if stem.endswith("e") and not stem.endswith("ee"):
        ing, ed = stem[:-1] + "ing", stem + "d"
    elif stem.endswith("y") and stem[-2] not in "aeiou":
        ing, ed = stem + "ing", stem[:-1] + "ied"
    elif len(stem) <= 4 and stem[-1] in "bdgmnprt" and stem[-2] in "aeiou" and stem[-3:-2] not in "aeiou":
        ing, ed = stem + stem[-1] + "ing", stem + stem[-1] + "ed"
    else:
        ing, ed = stem + "ing", stem + "ed"
    if stem.endswith(("sh", "ch", "s", "x", "o")):
        s = stem + "es"
    elif stem.endswith("y") and stem[-2] not in "aeiou":
        s = stem[:-1] + "ies"
    else:
        s = stem + "s"
    return [stem, s, ing, ed]


# Verbs of moving: "rides down the hill", "rolling down a neon street", "Bolt rolls in".
MOTION_WORDS = frozenset(
    f for stem in """
        walk roll sail climb wander stroll march rush dash crawl float drift soar head travel
        jump leap gallop trot paddle row tumble hike skate slide glide drive ride move dive
        creep sneak limp tiptoe stumble hurry race run swim hop fly go come fall trudge cycle
        zoom speed skid hurtle scramble storm stride strut slink scurry bolt charge wade
        step burst sprint jog amble saunter shuffle barge rumble swagger stagger wobble
    """.split() for f in _forms(stem)
) | _words("ran rode drove swam went came fell flew crept slid sped strode")
MOTION_RE = "|".join(sorted(MOTION_WORDS, key=len, reverse=True))


def _kinds(table: str) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for line in table.strip().splitlines():
        kinds, _, words = line.partition(":")
        for w in words.split():
            out[w] = tuple(kinds.split())
    return out


# What else people call a registered creature: "the dog" for "a fluffy corgi".
KINDS = _kinds("""
dog animal: corgi poodle terrier labrador retriever husky beagle dachshund collie
dog animal: shepherd spaniel pug bulldog puppy hound
cat animal: kitten tabby siamese kitty
horse animal: stallion mare pony foal steed
bird animal: phoenix raven crow owl eagle hawk parrot sparrow robin dove swan falcon
robot machine: android droid bot automaton mech cyborg
fish animal: koi goldfish carp salmon trout
dragon beast: wyvern drake
""")



# Things of which one is worn at a time: a new one replaces the old ("changes into a ball gown").
GARMENT_KINDS = _kinds("""
head: hat cap hood helmet crown beanie fez beret fedora bonnet turban tophat top-hat sombrero stetson
feet: boots boot shoes shoe sandals sneakers slippers heels clogs
eyes: glasses spectacles sunglasses goggles
outfit: dress sundress gown robe robes kimono suit tuxedo uniform costume outfit tunic overalls jumpsuit
outfit: pajamas pyjamas nightgown
""")
